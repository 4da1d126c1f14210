/**
 * The emergency-access (break glass) section of the remediation page: a pending request to cancel, why it
 * is not offered (no user in the link, a tier that never allows it), or the form (reason, duration,
 * what it means, the limit left) with its field errors, a refusal or the last decline.
 */
import type { DeviceView } from './view.js';
import type { PageOptions } from './render.js';
import { clockTime, dayDate, html, humanDuration, raw, whenAbsolute, type SafeHtml } from './html.js';

const DURATION_PRESETS = [30 * 60_000, 60 * 60_000, 2 * 3_600_000, 4 * 3_600_000];

export function durationChoices(maxMs: number): Array<{ value: string; ms: number; label: string }> {
  const picks = DURATION_PRESETS.filter((d) => d <= maxMs);
  if (picks.length === 0 || (picks[picks.length - 1] ?? 0) < maxMs) picks.push(maxMs);
  return picks.map((ms) => ({
    value:
      ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`,
    ms,
    label: humanDuration(ms),
  }));
}

type Emergency = NonNullable<DeviceView['breakGlass']>;
type Form = PageOptions['form'];

/** The section when no request can be made here: one pending already, no user in the link, or never. */
function notOffered(v: DeviceView, e: Emergency, o: PageOptions, now: number): SafeHtml | undefined {
  const r = v.resourceTitle;
  if (e.pending) {
    return html`<section class="card pending-card" aria-labelledby="bg-h">\
<h2 id="bg-h">Emergency access: waiting for approval</h2>
      <p>Sent ${whenAbsolute(e.pending.createdAt, now)} to your IT/security team \
for ${humanDuration(e.pending.durationMs)} of access. This page updates by itself when they decide. \
Fixing the items above is still the fastest way in.</p>
      <form method="post" action="/device/break-glass/cancel">\
<input type="hidden" name="t" value="${o.token}"><input type="hidden" name="csrf" value="${o.csrf}">\
<input type="hidden" name="id" value="${e.pending.id}">
      <button type="submit" class="btn">Cancel request</button></form></section>`;
  }
  if (v.link.user.trim() === '') {
    return html`<section class="card" aria-labelledby="bg-h"><h2 id="bg-h">Emergency access (break glass)</h2>
      <p>Emergency access is given to a person, and this link does not say who you are. \
Open ${r} through your company sign-in, then use the link you get there.</p></section>`;
  }
  if (e.approval === 'never') {
    const stuck = o.help.text || o.help.url ? '; if you are stuck, ask for help below' : '';
    return html`<section class="card" aria-labelledby="bg-h"><h2 id="bg-h">Emergency access (break glass)</h2>
      <p>Emergency access is not available for ${r}: your IT team keeps it closed for this kind of resource. \
Fixing the items above is the way in${stuck}.</p></section>`;
  }
  return undefined;
}

/** What the form says above its fields: a refusal, the field errors (linked), or the last decline. */
function formMessages(e: Emergency, f: Form, o: PageOptions): SafeHtml {
  const orHelp = o.help.text || o.help.url ? ', or ask for help below' : '';
  const refusal = f?.refusal
    ? html`<div class="error-summary" id="error-summary" role="alert" tabindex="-1">\
<h3>We couldn't give you emergency access</h3><p>${f.refusal}</p>\
<p>Fixing the items above still works${orHelp}.</p></div>`
    : '';
  const errors =
    f && f.errors.length > 0
      ? html`<div class="error-summary" id="error-summary" role="alert" tabindex="-1"><h3>There is a problem</h3>\
<ul>${f.errors.map((x) => html`<li><a href="#bg-${x.field}">${x.message}</a></li>`)}</ul></div>`
      : '';
  const d = e.declined;
  const declined = d
    ? html`<div class="notice warn"><p><strong>Your last request was declined\
${d.revokedBy ? ` by ${d.revokedBy}` : ''}.</strong>\
${d.decisionComment ? html` Their comment: “${d.decisionComment}”` : ''}</p></div>`
    : '';
  return html`${refusal}
    ${errors}
    ${declined}`;
}

/** The request form: reason (with its error), duration, what it means, the limit left, the button. */
function requestForm(v: DeviceView, e: Emergency, f: Form, o: PageOptions, windowText: string): SafeHtml {
  const choices = durationChoices(e.maxDurationMs);
  const chosen = f && choices.some((c) => c.value === f.duration) ? f.duration : (choices[0]?.value ?? '');
  const chosenLabel = choices.find((c) => c.value === chosen)?.label ?? '';
  const left = Math.max(0, e.usage.limit - e.usage.used);
  const verb = e.approval === 'required' ? 'Request' : 'Get';
  const reasonErr = f?.errors.find((x) => x.field === 'reason')?.message;
  const reasonError = reasonErr
    ? html`<p class="field-error" id="bg-reason-error"><span aria-hidden="true">⚠</span> ${reasonErr}</p>`
    : '';
  const radio = (c: (typeof choices)[number]) =>
    html`<label class="radio"><input type="radio" name="duration" value="${c.value}" data-label="${c.label}" \
${c.value === chosen ? raw('checked') : ''}> ${c.label}</label>`;
  return html`
    <form method="post" action="/device/break-glass" id="bg-form" novalidate>
      <input type="hidden" name="t" value="${o.token}">
      <input type="hidden" name="csrf" value="${o.csrf}">
      <input type="hidden" name="idempotency_key" value="${o.formKey}">
      <div class="field ${reasonErr ? 'has-error' : ''}">
        <label for="bg-reason">Why do you need access now? <span class="req">(required)</span></label>
        <p class="hint" id="bg-reason-hint">Your IT/security team reads this. \
Example: “Paging incident INC-123, need read access to logs”. At least 10 characters.</p>
        ${reasonError}
        <textarea id="bg-reason" name="reason" rows="3" maxlength="1000" required aria-required="true" \
aria-describedby="bg-reason-hint${reasonErr ? ' bg-reason-error' : ''}" ${reasonErr ? raw('aria-invalid="true"') : ''}>\
${f?.reason ?? ''}</textarea>
      </div>
      <fieldset class="field" id="bg-duration">
        <legend>For how long?</legend>
        <div class="radios">${choices.map(radio)}</div>
      </fieldset>
      <ul class="consequences">
        <li>It is logged and reviewed by your IT/security team.</li>
        <li>It covers only ${v.resourceTitle} and resources at the same security level.</li>
        <li>Your laptop still needs fixing.</li>
        <li>${left} of ${e.usage.limit} left in ${windowText}.</li>
        ${e.approval === 'required' ? html`<li>Someone from your IT/security team must approve it first.</li>` : ''}
      </ul>
      <button type="submit" class="btn" id="bg-submit" data-verb="${verb}">${verb} ${chosenLabel} of access</button>
    </form>`;
}

/** Instead of the form when every emergency access of the window is used: when the next one is possible. */
function limitReached(e: Emergency, windowText: string, now: number): SafeHtml {
  const next = e.usage.nextAt;
  return html`<p class="notice warn">You have used all ${e.usage.limit} emergency accesses allowed in ${windowText}.\
${next !== null ? ` The next one is possible on ${dayDate(next, now)} at ${clockTime(next)}.` : ''}</p>`;
}

export function renderEmergency(v: DeviceView, o: PageOptions, now: number): SafeHtml {
  const e = v.breakGlass;
  if (!e || v.state === 'restored' || v.state === 'unknown_device' || v.state === 'not_your_device') return html``;
  // An active grant is described at the top of the page (the granted state).
  if (e.active) return html``;
  const closed = notOffered(v, e, o, now);
  if (closed) return closed;
  const f = o.form;
  const windowText = humanDuration(e.usage.windowMs);
  const open = f !== undefined || e.declined !== undefined;
  return html`<section class="emergency" aria-labelledby="bg-h">
  <details id="bg-details" ${open ? raw('open') : ''}>
    <summary><h2 id="bg-h">Emergency access (break glass)</h2>\
<span class="summary-hint">Can't fix it right now?</span></summary>
    <div class="details-body">
    ${formMessages(e, f, o)}
    <p>Use this only when you must get in before you can fix your laptop, for example during an incident. \
It gives you access to ${v.resourceTitle} (and other resources at the same security level) for a limited time.</p>
    ${e.usage.used >= e.usage.limit ? limitReached(e, windowText, now) : requestForm(v, e, f, o, windowText)}
    </div>
  </details>
</section>`;
}
