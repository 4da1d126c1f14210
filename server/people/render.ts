/**
 * Server-rendered HTML of the remediation page (UX.md §2): every state, readable without JavaScript.
 * All dynamic text goes through the escaping `html` template; admin-written messages through `markdown`.
 */
import { PAGE_CSS, PAGE_JS } from './assets.js';
import type { DeviceLink } from './link.js';
import type { CheckItem, DeviceView, ItemStatus, PageState } from './view.js';
import {
  clockTime,
  dayDate,
  hostOf,
  html,
  humanDuration,
  markdown,
  plural,
  raw,
  relAbs,
  safeUrl,
  whenAbsolute,
  type SafeHtml,
} from './html.js';

export interface Help {
  text?: string;
  url?: string;
  enrollGuideUrl?: string;
}

export type Notice =
  | { kind: 'recheck_started' }
  | { kind: 'recheck_wait'; waitS: number }
  | { kind: 'recheck_failed' }
  | { kind: 'bg_active' }
  | { kind: 'bg_pending' }
  | { kind: 'bg_cancelled' };

export interface FormState {
  reason: string;
  duration: string;
  /** Field errors (the summary links to each field). */
  errors: Array<{ field: 'reason' | 'duration'; message: string }>;
  /** A policy refusal (403/409) with its exact message. */
  refusal?: string;
}

export interface PageOptions {
  token: string;
  csrf: string;
  help: Help;
  notice?: Notice;
  form?: FormState;
  /** A fresh idempotency key for the emergency-access form. */
  formKey: string;
}

const STATUS_WORD: Record<ItemStatus, { icon: string; word: string }> = {
  pass: { icon: '✓', word: 'OK' },
  fail: { icon: '!', word: 'Needs fixing' },
  stale: { icon: '↻', word: 'Needs a fresh check' },
  unknown: { icon: '?', word: 'Not checked yet' },
  error: { icon: '⚠', word: "Couldn't check" },
};

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

const problemsOf = (v: DeviceView) => v.checks.filter((c) => c.status !== 'pass');

/** The page's H1 and <title> for a state. */
export function headline(v: DeviceView): { h1: string; title: string } {
  const r = v.resourceTitle;
  const probs = problemsOf(v);
  const n = probs.length;
  const fails = probs.filter((c) => c.status === 'fail' || c.status === 'stale').length;
  const t = (s: string) => `${s} · ${r} · Trustgate`;
  const denyHead = (): { h1: string; title: string } => {
    if (fails > 0)
      return {
        h1: `Fix ${plural(n, 'thing', 'things')} to open ${r}`,
        title: t(`${plural(n, 'fix', 'fixes')} needed`),
      };
    if (probs.some((c) => c.status === 'stale'))
      return { h1: 'We need a fresh check of your laptop', title: t('Fresh check needed') };
    if (n > 0) return { h1: "We couldn't check your laptop", title: t("Couldn't check") };
    return { h1: `We couldn't confirm your laptop is ready to open ${r}`, title: t('Access paused') };
  };
  switch (v.state) {
    case 'deny':
    case 'checking':
      return denyHead();
    case 'stale':
      return { h1: 'We need a fresh check of your laptop', title: t('Fresh check needed') };
    case 'cant_check':
      return { h1: "We couldn't check your laptop", title: t("Couldn't check") };
    case 'partly_fixed':
      return { h1: `${plural(n, 'thing', 'things')} left to fix`, title: t(`${plural(n, 'fix', 'fixes')} left`) };
    case 'still_failing':
      return {
        h1: n === 1 ? `${probs[0]?.title ?? 'One check'}: still needs fixing` : `${n} things still need fixing`,
        title: t('Still needs fixing'),
      };
    case 'no_answer':
      return { h1: "Your laptop didn't answer", title: t('No answer from your laptop') };
    case 'restored':
      return { h1: `You're all set. You can open ${r} again`, title: t('Access restored') };
    case 'heads_up':
      return {
        h1: `You're in, but ${plural(n, 'fix is', 'fixes are')} needed`,
        title: t(`${plural(n, 'fix', 'fixes')} needed soon`),
      };
    case 'granted':
      return {
        h1:
          v.grantExpiresAt !== null
            ? `Emergency access until ${clockTime(v.grantExpiresAt)}`
            : 'Emergency access granted',
        title: t('Emergency access'),
      };
    case 'pending':
      return { h1: 'Waiting for approval', title: t('Waiting for approval') };
    case 'unknown_device':
      return { h1: "We don't recognise this laptop", title: t('Unknown laptop') };
  }
}

/** The live status line (announced at milestones only). */
export function statusText(v: DeviceView, now: number): string {
  const title = (id: string) => v.checks.find((c) => c.id === id)?.title ?? id;
  switch (v.state) {
    case 'checking':
      return 'Checking your laptop… usually under 30 seconds.';
    case 'no_answer':
      return v.recheck.requestedAt !== null
        ? `We asked your laptop at ${clockTime(v.recheck.requestedAt)} and got no answer.`
        : 'We got no answer from your laptop.';
    case 'partly_fixed':
      return `Fixed: ${v.recheck.fixed.map(title).join(', ')}. Still needs fixing: ${v.recheck.still.map(title).join(', ')}.`;
    case 'still_failing':
      return `We checked again at ${clockTime(lastAnswerAt(v) ?? now)}; nothing changed yet.`;
    case 'restored':
      return v.recheck.phase === 'answered' ? "You're good — access restored." : '';
    case 'granted':
      return 'Emergency access is on.';
    case 'pending':
      return 'Your request was sent for approval. This page updates by itself.';
    default:
      return '';
  }
}

function lastAnswerAt(v: DeviceView): number | null {
  const ts = v.checks.map((c) => c.observedAt).filter((t): t is number => t !== null);
  return ts.length > 0 ? Math.max(...ts) : null;
}

function badge(s: ItemStatus): SafeHtml {
  const w = STATUS_WORD[s];
  return html`<span class="badge is-${s}"><span class="icon" aria-hidden="true">${w.icon}</span> ${w.word}</span>`;
}

function checkItem(c: CheckItem, v: DeviceView, now: number): SafeHtml {
  const doc = safeUrl(c.remediationUrl);
  let body: SafeHtml;
  if (c.status === 'error')
    body = html`<p>We couldn't run this check on your laptop. This isn't something you did: check again, and if it keeps happening, contact your IT team with the reference below.</p>`;
  else if (c.status === 'unknown')
    body = html`<p>We haven't received this check from your laptop yet. Make sure it's awake and online, then check again.</p>`;
  else if (c.status === 'stale')
    body = html`<p>This was last checked ${c.observedAt !== null ? relAbs(c.observedAt, now) : 'a while ago'}; ${v.resourceTitle} needs a check from the last ${v.maxAgeMs !== null ? humanDuration(v.maxAgeMs) : 'few minutes'}. Use “Recheck now” below.</p>`;
  else if (c.status === 'fail') body = markdown(c.message);
  else body = html``;
  const meta: string[] = [];
  if (c.fixedAt !== null) meta.push(`Fixed ${clockTime(c.fixedAt)}`);
  else if (c.observedAt !== null) meta.push(`Checked ${whenAbsolute(c.observedAt, now)}`);
  if (c.status === 'fail' && c.firstFailedAt !== null)
    meta.push(`Needing a fix since ${whenAbsolute(c.firstFailedAt, now).replace(/, \d\d:\d\d UTC$/, '')}`);
  return html`<li class="check is-${c.status}" id="check-${c.id}">
  <div class="check-head"><h3>${c.title}</h3>${badge(c.status)}</div>
  ${c.status !== 'pass' ? html`<div class="msg">${body}</div>` : ''}
  ${c.status === 'fail' && doc ? html`<p class="doc"><a href="${doc}" rel="noreferrer noopener" target="_blank">Step-by-step guide (${hostOf(doc)})<span class="sr-only"> (opens in a new tab)</span></a></p>` : ''}
  ${meta.length > 0 ? html`<p class="meta">${meta.join(' · ')}</p>` : ''}
</li>`;
}

function recheckBlock(v: DeviceView, o: PageOptions, now: number): SafeHtml {
  const waiting = v.state === 'checking';
  const coolS = Math.max(0, Math.ceil((v.recheck.availableAt - now) / 1000));
  const label =
    v.state === 'no_answer'
      ? 'Try again'
      : v.state === 'stale'
        ? 'Check now'
        : v.state === 'cant_check'
          ? 'Check again'
          : 'Recheck now';
  const steps = waiting
    ? html`<ol class="steps" aria-label="Progress">
    <li class="done"><span aria-hidden="true">✓</span> Asked your laptop to check again</li>
    <li class="current">Waiting for your laptop to answer <span class="elapsed" data-since="${v.recheck.requestedAt ?? now}"></span></li>
    <li>Updating your access</li>
  </ol>
  <p class="hint nojs-only">Reload in about 30 seconds to see the result. <a href="/device?t=${encodeURIComponent(o.token)}">See result</a></p>`
    : '';
  const hint =
    v.state === 'still_failing'
      ? html`<p class="hint">Some changes need a restart or a minute to apply. If it keeps failing, contact your IT team and give them the reference below.</p>`
      : v.state === 'no_answer'
        ? html`<p class="hint">Make sure your laptop is awake, online, and that the device agent is running${o.help.url ? html` (<a href="${o.help.url}" rel="noreferrer noopener">how to check</a>)` : ''}. Then try again.</p>`
        : html`<p class="hint">Fixed something? Ask your laptop to check again; it usually takes under 30 seconds.</p>`;
  return html`<section class="recheck" aria-labelledby="recheck-h">
  <h2 id="recheck-h" class="sr-only">Check again</h2>
  ${hint}
  ${steps}
  <form method="post" action="/device/recheck" class="recheck-form" data-cooldown-until="${v.recheck.availableAt}" data-server-now="${now}">
    <input type="hidden" name="t" value="${o.token}">
    <input type="hidden" name="csrf" value="${o.csrf}">
    <button type="submit" class="btn primary" id="recheck-btn" ${waiting ? raw('aria-disabled="true"') : ''}>${waiting ? 'Checking…' : label}</button>
    <span class="cooldown" id="cooldown">${!waiting && coolS > 0 ? `You can check again in ${coolS} s.` : ''}</span>
  </form>
</section>`;
}

function bgSection(v: DeviceView, o: PageOptions, now: number): SafeHtml {
  const e = v.breakGlass;
  if (!e || v.state === 'restored' || v.state === 'unknown_device') return html``;
  const r = v.resourceTitle;
  // An active grant is described at the top of the page (the granted state).
  if (e.active) return html``;
  if (e.pending) {
    return html`<section class="card pending-card" aria-labelledby="bg-h"><h2 id="bg-h">Emergency access: waiting for approval</h2>
      <p>Sent ${whenAbsolute(e.pending.createdAt, now)} to your IT/security team for ${humanDuration(e.pending.durationMs)} of access. This page updates by itself when they decide. Fixing the items above is still the fastest way in.</p>
      <form method="post" action="/device/break-glass/cancel"><input type="hidden" name="t" value="${o.token}"><input type="hidden" name="csrf" value="${o.csrf}"><input type="hidden" name="id" value="${e.pending.id}">
      <button type="submit" class="btn">Cancel request</button></form></section>`;
  }
  if (v.link.user.trim() === '') {
    return html`<section class="card" aria-labelledby="bg-h"><h2 id="bg-h">Emergency access (break glass)</h2>
      <p>Emergency access is given to a person, and this link does not say who you are. Open ${r} through your company sign-in, then use the link you get there.</p></section>`;
  }
  if (e.approval === 'never') {
    return html`<section class="card" aria-labelledby="bg-h"><h2 id="bg-h">Emergency access (break glass)</h2>
      <p>Emergency access is not available for ${r}: your IT team keeps it closed for this kind of resource. Fixing the items above is the way in${o.help.text || o.help.url ? '; if you are stuck, ask for help below' : ''}.</p></section>`;
  }
  const f = o.form;
  const choices = durationChoices(e.maxDurationMs);
  const chosen = f && choices.some((c) => c.value === f.duration) ? f.duration : (choices[0]?.value ?? '');
  const chosenLabel = choices.find((c) => c.value === chosen)?.label ?? '';
  const left = Math.max(0, e.usage.limit - e.usage.used);
  const windowText = humanDuration(e.usage.windowMs);
  const verb = e.approval === 'required' ? 'Request' : 'Get';
  const open = f !== undefined || e.declined !== undefined;
  const err = (field: 'reason' | 'duration') => f?.errors.find((x) => x.field === field)?.message;
  const reasonErr = err('reason');
  const atLimit = left === 0;
  return html`<section class="emergency" aria-labelledby="bg-h">
  <details id="bg-details" ${open ? raw('open') : ''}>
    <summary><h2 id="bg-h">Emergency access (break glass)</h2><span class="summary-hint">Can't fix it right now?</span></summary>
    <div class="details-body">
    ${f?.refusal ? html`<div class="error-summary" id="error-summary" role="alert" tabindex="-1"><h3>We couldn't give you emergency access</h3><p>${f.refusal}</p><p>Fixing the items above still works${o.help.text || o.help.url ? ', or ask for help below' : ''}.</p></div>` : ''}
    ${f && f.errors.length > 0 ? html`<div class="error-summary" id="error-summary" role="alert" tabindex="-1"><h3>There is a problem</h3><ul>${f.errors.map((x) => html`<li><a href="#bg-${x.field}">${x.message}</a></li>`)}</ul></div>` : ''}
    ${e.declined ? html`<div class="notice warn"><p><strong>Your last request was declined${e.declined.revokedBy ? ` by ${e.declined.revokedBy}` : ''}.</strong>${e.declined.decisionComment ? html` Their comment: “${e.declined.decisionComment}”` : ''}</p></div>` : ''}
    <p>Use this only when you must get in before you can fix your laptop, for example during an incident. It gives you access to ${r} (and other resources at the same security level) for a limited time.</p>
    ${
      atLimit
        ? html`<p class="notice warn">You have used all ${e.usage.limit} emergency accesses allowed in ${windowText}.${e.usage.nextAt !== null ? ` The next one is possible on ${dayDate(e.usage.nextAt, now)} at ${clockTime(e.usage.nextAt)}.` : ''}</p>`
        : html`
    <form method="post" action="/device/break-glass" id="bg-form" novalidate>
      <input type="hidden" name="t" value="${o.token}">
      <input type="hidden" name="csrf" value="${o.csrf}">
      <input type="hidden" name="idempotency_key" value="${o.formKey}">
      <div class="field ${reasonErr ? 'has-error' : ''}">
        <label for="bg-reason">Why do you need access now? <span class="req">(required)</span></label>
        <p class="hint" id="bg-reason-hint">Your IT/security team reads this. Example: “Paging incident INC-123, need read access to logs”. At least 10 characters.</p>
        ${reasonErr ? html`<p class="field-error" id="bg-reason-error"><span aria-hidden="true">⚠</span> ${reasonErr}</p>` : ''}
        <textarea id="bg-reason" name="reason" rows="3" maxlength="1000" required aria-required="true" aria-describedby="bg-reason-hint${reasonErr ? ' bg-reason-error' : ''}" ${reasonErr ? raw('aria-invalid="true"') : ''}>${f?.reason ?? ''}</textarea>
      </div>
      <fieldset class="field" id="bg-duration">
        <legend>For how long?</legend>
        <div class="radios">${choices.map((c) => html`<label class="radio"><input type="radio" name="duration" value="${c.value}" data-label="${c.label}" ${c.value === chosen ? raw('checked') : ''}> ${c.label}</label>`)}</div>
      </fieldset>
      <ul class="consequences">
        <li>It is logged and reviewed by your IT/security team.</li>
        <li>It covers only ${r} and resources at the same security level.</li>
        <li>Your laptop still needs fixing.</li>
        <li>${left} of ${e.usage.limit} left in ${windowText}.</li>
        ${e.approval === 'required' ? html`<li>Someone from your IT/security team must approve it first.</li>` : ''}
      </ul>
      <button type="submit" class="btn" id="bg-submit" data-verb="${verb}">${verb} ${chosenLabel} of access</button>
    </form>`
    }
    </div>
  </details>
</section>`;
}

function noticeBlock(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  switch (n.kind) {
    case 'recheck_wait':
      return html`<p class="notice">You can check again in ${n.waitS} s.</p>`;
    case 'recheck_failed':
      return html`<p class="notice warn">We couldn't ask your laptop to check again just now. Try again in a moment.</p>`;
    case 'bg_cancelled':
      return html`<p class="notice">Your emergency access request was cancelled.</p>`;
    default:
      return html``;
  }
}

/** The part of the page that live updates replace: to-do list, recheck, passing checks, emergency access. */
export function renderContent(v: DeviceView, o: PageOptions, now: number): { checks: SafeHtml; emergency: SafeHtml } {
  const problems = problemsOf(v);
  const passed = v.checks.filter((c) => c.status === 'pass');
  const r = v.resourceTitle;
  let lead: SafeHtml = html``;
  if (v.state === 'restored') {
    lead = html`<div class="card ok-card"><p>${v.resourceUrl ? html`<a class="btn primary" href="${v.resourceUrl}" rel="noreferrer">Continue to ${r}</a>` : html`Open ${r} again in your browser.`}</p><p class="hint">It can take a few seconds for ${r} to notice.</p></div>`;
  } else if (v.state === 'granted') {
    const left = v.grantExpiresAt !== null ? ` (${humanDuration(v.grantExpiresAt - now)} left)` : '';
    lead = html`<div class="card granted-card"><p>You can open ${r} now${left}. Your reason was logged and will be reviewed by your IT/security team.</p>
      ${problems.length > 0 && v.grantExpiresAt !== null ? html`<p>Your laptop still needs the fixes below before ${clockTime(v.grantExpiresAt)}.</p>` : ''}
      ${v.resourceUrl ? html`<p><a class="btn primary" href="${v.resourceUrl}" rel="noreferrer">Continue to ${r}</a></p>` : ''}</div>`;
  } else if (v.state === 'heads_up') {
    lead = html`<div class="card"><p>You can open ${r} now, but your laptop needs ${plural(problems.length, 'fix', 'fixes')}. Soon this will be required.</p></div>`;
  }
  const todo =
    problems.length > 0
      ? html`<section aria-labelledby="todo-h">
    <h2 id="todo-h">${v.state === 'restored' || v.state === 'granted' || v.state === 'heads_up' ? 'Still to fix' : 'What needs fixing'}</h2>
    <ul class="checks">${problems.map((c) => checkItem(c, v, now))}</ul>
  </section>`
      : '';
  const showRecheck =
    v.state !== 'restored' && v.state !== 'unknown_device' && (problems.length > 0 || v.decision === 'deny');
  const passedBlock =
    passed.length > 0
      ? html`<details class="passed">
    <summary>${plural(passed.length, 'check', 'checks')} passed</summary>
    <ul class="checks compact">${passed.map((c) => checkItem(c, v, now))}</ul>
  </details>`
      : '';
  return {
    checks: html`${noticeBlock(o.notice)}${lead}${todo}${showRecheck ? recheckBlock(v, o, now) : ''}${passedBlock}`,
    emergency: bgSection(v, o, now),
  };
}

const FAVICON =
  'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 16 16%22%3E%3Crect width=%2216%22 height=%2216%22 rx=%224%22 fill=%22%231f4fd1%22/%3E%3C/svg%3E';

function layout(opts: { title: string; body: SafeHtml; footer: SafeHtml; mainAttrs?: SafeHtml }): string {
  return `<!doctype html>${
    html`<html lang="en"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${opts.title}</title>
<link rel="icon" href="${raw(FAVICON)}">
<link rel="stylesheet" href="${PAGE_CSS.path}">
<script src="${PAGE_JS.path}" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><div class="wrap"><span class="brand"><span class="logo" aria-hidden="true"></span>Trustgate</span><span class="top-sub">Device check</span></div></header>
<main id="main" class="wrap" tabindex="-1" ${opts.mainAttrs ?? ''}>
${opts.body}
</main>
<footer class="wrap foot">${opts.footer}</footer>
</body></html>`.value
  }`;
}

function footer(help: Help, extra: { ref?: string; expiresAt?: number; now: number }): SafeHtml {
  const url = safeUrl(help.url);
  const text = help.text ?? 'Contact your IT team.';
  return html`<p><strong>Need help?</strong> ${url ? html`<a href="${url}" rel="noreferrer noopener">${text}</a>` : text}</p>
  ${extra.ref ? html`<p>Reference for IT: <code class="ref">${extra.ref}</code></p>` : ''}
  ${extra.expiresAt !== undefined ? html`<p>For your security, this link stops working at ${whenAbsolute(extra.expiresAt, extra.now)}.</p>` : ''}`;
}

export function renderDevicePage(v: DeviceView, o: PageOptions, now: number): { html: string; title: string } {
  const { h1, title } = headline(v);
  const h = v.host;
  const who = v.link.user;
  if (v.state === 'unknown_device') {
    const guide = safeUrl(o.help.enrollGuideUrl);
    const body = html`<h1 id="h1">${h1}</h1>
<div id="live" role="status" aria-live="polite" class="status"></div>
<div class="card"><p>We have no record of a laptop with this serial number, so we can't let it open ${v.resourceTitle} yet. It needs to be set up with your organisation's device agent first.</p>
${guide ? html`<p><a class="btn primary" href="${guide}" rel="noreferrer noopener">How to set up your laptop</a></p>` : ''}
<p>Give your IT team this serial number: <code class="serial">${v.link.serial}</code> (for IT).</p></div>`;
    return {
      html: layout({ title, body, footer: footer(o.help, { ref: v.ref, expiresAt: v.link.expiresAt, now }) }),
      title,
    };
  }
  const device = h
    ? [h.hardwareModel || h.osName || 'Your laptop', h.hostname].filter((s) => s).join(' · ')
    : 'Your laptop';
  const content = renderContent(v, o, now);
  const body = html`<h1 id="h1">${h1}</h1>
<p class="context">${device}${who ? ` · ${who}` : ''} · serial <span class="serial">${v.link.serial}</span> <span class="muted">(for IT)</span></p>
<p class="context" id="last-report">${lastReportLine(v, now)}</p>
<div id="live" role="status" aria-live="polite" class="status ${v.state}">${statusText(v, now)}</div>
<div id="checks-area">${content.checks}</div>
<div id="bg-area">${content.emergency}</div>`;
  const attrs = html`data-token="${o.token}" data-state="${v.state}" data-version="${v.version}"`;
  return {
    html: layout({
      title,
      body,
      footer: footer(o.help, { ref: v.ref, expiresAt: v.link.expiresAt, now }),
      mainAttrs: attrs,
    }),
    title,
  };
}

export function lastReportLine(v: DeviceView, now: number): string {
  return v.lastReportAt !== null
    ? `Last report from your laptop: ${relAbs(v.lastReportAt, now)}`
    : 'We have not received a report from your laptop yet.';
}

/** "This link has expired" (valid signature, past expiry): offers a way back, keeps typed text. */
export function renderExpiredPage(
  link: DeviceLink,
  resourceTitle: string,
  resourceUrl: string | null,
  help: Help,
  now: number,
  typed?: string,
): string {
  const body = html`<h1>This link has expired</h1>
<div class="card"><p>For your security, links to this page work for a short time only; this one stopped working ${relAbs(link.expiresAt, now)}.</p>
<p>Open ${resourceTitle} again to get a new link.</p>
${resourceUrl ? html`<p><a class="btn primary" href="${resourceUrl}" rel="noreferrer">Open ${resourceTitle}</a></p>` : ''}</div>
${
  typed
    ? html`<div class="card"><h2>What you typed</h2><p>So you don't lose it, here is the text you entered. Copy it before you leave this page.</p>
<label for="typed">Your reason</label><textarea id="typed" readonly rows="3">${typed}</textarea></div>`
    : ''
}`;
  return layout({ title: 'Link expired · Trustgate', body, footer: footer(help, { now }) });
}

/** "This link doesn't work": no data, no hint whether the device exists. */
export function renderInvalidPage(help: Help, now: number): string {
  const body = html`<h1>This link doesn't work</h1>
<div class="card"><p>It may have been cut short or changed when it was copied. Open the app you were trying to reach again to get a fresh link, or contact your IT team.</p></div>`;
  return layout({ title: "Link doesn't work · Trustgate", body, footer: footer(help, { now }) });
}

export function renderErrorPage(help: Help, now: number): string {
  const body = html`<h1>Something went wrong on our side</h1>
<div class="card"><p>This isn't something you did. Reload the page in a moment; if it keeps happening, contact your IT team.</p></div>`;
  return layout({ title: 'Something went wrong · Trustgate', body, footer: footer(help, { now }) });
}

/** JSON for the live channel (SSE and polling). */
export function statusPayload(v: DeviceView, now: number): Record<string, unknown> {
  const { h1, title } = headline(v);
  return {
    version: v.version,
    state: v.state satisfies PageState,
    decision: v.decision,
    would_deny: v.wouldDeny,
    h1,
    title,
    status_text: statusText(v, now),
    last_report: lastReportLine(v, now),
    last_report_at: v.lastReportAt !== null ? new Date(v.lastReportAt).toISOString() : null,
    checks: v.checks.map((c) => ({
      id: c.id,
      title: c.title,
      status: c.status,
      observed_at: c.observedAt !== null ? new Date(c.observedAt).toISOString() : null,
    })),
    recheck: {
      phase: v.recheck.phase,
      requested_at: v.recheck.requestedAt,
      available_at: v.recheck.availableAt,
      fixed: v.recheck.fixed,
      still: v.recheck.still,
    },
    break_glass: v.breakGlass?.active
      ? { id: v.breakGlass.active.id, status: 'active', expires_at: v.breakGlass.active.expiresAt }
      : v.breakGlass?.pending
        ? { id: v.breakGlass.pending.id, status: 'pending', expires_at: null }
        : null,
    server_now: now,
    link_expires_at: v.link.expiresAt,
  };
}
