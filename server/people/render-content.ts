/**
 * The part of the remediation page that live updates replace (GET /device/fragment): the notice, the
 * lead card of the state, the to-do list of checks, the recheck block and the passed checks. The
 * emergency-access section is in render-emergency.ts, the page around them in render.ts.
 */
import type { CheckItem, DeviceView, ItemStatus } from './view.js';
import { problemCounts, problemsOf, shownTitle } from './view.js';
import { renderEmergency } from './render-emergency.js';
import type { Notice, PageOptions } from './render.js';
import {
  clockTime,
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

const STATUS_WORD: Record<ItemStatus, { icon: string; word: string }> = {
  pass: { icon: '✓', word: 'OK' },
  fail: { icon: '!', word: 'Needs fixing' },
  stale: { icon: '↻', word: 'Needs a fresh check' },
  unknown: { icon: '?', word: 'Not checked yet' },
  error: { icon: '⚠', word: "Couldn't check" },
};

function badge(s: ItemStatus): SafeHtml {
  const w = STATUS_WORD[s];
  return html`<span class="badge is-${s}"><span class="icon" aria-hidden="true">${w.icon}</span> ${w.word}</span>`;
}

function checkItem(c: CheckItem, v: DeviceView, now: number): SafeHtml {
  const doc = safeUrl(c.remediationUrl);
  let body: SafeHtml;
  if (c.status === 'error')
    body = html`<p>We couldn't run this check on your laptop. This isn't something you did: check again, \
and if it keeps happening, contact your IT team with the reference below.</p>`;
  else if (c.status === 'unknown')
    body = html`<p>We haven't received this check from your laptop yet. \
Make sure it's awake and online, then check again.</p>`;
  else if (c.status === 'stale') {
    const checked = c.observedAt !== null ? relAbs(c.observedAt, now) : 'a while ago';
    const maxAge = v.maxAgeMs !== null ? humanDuration(v.maxAgeMs) : 'few minutes';
    body = html`<p>This was last checked ${checked}; ${v.resourceTitle} needs a check from the last ${maxAge}. \
Use “Recheck now” below.</p>`;
  } else if (c.status === 'fail') body = markdown(c.message);
  else body = html``;
  const meta: string[] = [];
  if (c.fixedAt !== null) meta.push(`Fixed ${clockTime(c.fixedAt)}`);
  else if (c.observedAt !== null) meta.push(`Checked ${whenAbsolute(c.observedAt, now)}`);
  if (c.status === 'fail' && c.firstFailedAt !== null)
    meta.push(`Needing a fix since ${whenAbsolute(c.firstFailedAt, now).replace(/, \d\d:\d\d UTC$/, '')}`);
  const guide =
    c.status === 'fail' && doc
      ? html`<p class="doc"><a href="${doc}" rel="noreferrer noopener" target="_blank">\
Step-by-step guide (${hostOf(doc)})<span class="sr-only"> (opens in a new tab)</span></a></p>`
      : '';
  return html`<li class="check is-${c.status}" id="check-${c.id}">
  <div class="check-head"><h3>${shownTitle(c)}</h3>${badge(c.status)}</div>
  ${c.status !== 'pass' ? html`<div class="msg">${body}</div>` : ''}
  ${guide}
  ${meta.length > 0 ? html`<p class="meta">${meta.join(' · ')}</p>` : ''}
</li>`;
}

function recheckBlock(v: DeviceView, o: PageOptions, now: number): SafeHtml {
  const waiting = v.state === 'checking';
  // a cool-down only follows a recheck someone asked for (never on a first load)
  const coolUntil = v.recheck.requestedAt !== null ? v.recheck.availableAt : 0;
  const coolS = Math.max(0, Math.ceil((coolUntil - now) / 1000));
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
    <li class="current">Waiting for your laptop to answer \
<span class="elapsed" data-since="${v.recheck.requestedAt ?? now}"></span></li>
    <li>Updating your access</li>
  </ol>
  <p class="hint nojs-only">Reload in about 30 seconds to see the result. \
<a href="/device?t=${encodeURIComponent(o.token)}">See result</a></p>`
    : '';
  const howToCheck = o.help.url ? html` (<a href="${o.help.url}" rel="noreferrer noopener">how to check</a>)` : '';
  const hint =
    v.state === 'still_failing'
      ? html`<p class="hint">Some changes need a restart or a minute to apply. \
If it keeps failing, contact your IT team and give them the reference below.</p>`
      : v.state === 'no_answer'
        ? html`<p class="hint">Make sure your laptop is awake, online, \
and that the device agent is running${howToCheck}. Then try again.</p>`
        : html`<p class="hint">Fixed something? Ask your laptop to check again; it usually takes under 30 seconds.</p>`;
  return html`<section class="recheck" aria-labelledby="recheck-h">
  <h2 id="recheck-h" class="sr-only">Check again</h2>
  ${hint}
  ${steps}
  <form method="post" action="/device/recheck" class="recheck-form" \
data-cooldown-until="${coolUntil}" data-server-now="${now}">
    <input type="hidden" name="t" value="${o.token}">
    <input type="hidden" name="csrf" value="${o.csrf}">
    <button type="submit" class="btn primary" id="recheck-btn" ${waiting ? raw('aria-disabled="true"') : ''}>\
${waiting ? 'Checking…' : label}</button>
    <span class="cooldown" id="cooldown">${!waiting && coolS > 0 ? `You can check again in ${coolS} s.` : ''}</span>
  </form>
</section>`;
}

function noticeBlock(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  switch (n.kind) {
    case 'recheck_wait':
      return html`<p class="notice">You can check again in ${n.waitS} s.</p>`;
    case 'recheck_failed':
      return html`<p class="notice warn">We couldn't ask your laptop to check again just now. \
Try again in a moment.</p>`;
    case 'bg_cancelled':
      return html`<p class="notice">Your emergency access request was cancelled.</p>`;
    default:
      return html``;
  }
}

/** The card above the checks when access is back, granted, or allowed with fixes needed soon. */
function leadCard(v: DeviceView, now: number): SafeHtml {
  const problems = problemsOf(v).length;
  const r = v.resourceTitle;
  const cont = (url: string) => html`<a class="btn primary" href="${url}" rel="noreferrer">Continue to ${r}</a>`;
  if (v.state === 'restored') {
    return html`<div class="card ok-card"><p>\
${v.resourceUrl ? cont(v.resourceUrl) : html`Open ${r} again in your browser.`}</p>\
<p class="hint">It can take a few seconds for ${r} to notice.</p></div>`;
  }
  if (v.state === 'granted') {
    const left = v.grantExpiresAt !== null ? ` (${humanDuration(v.grantExpiresAt - now)} left)` : '';
    const fixBy =
      problems > 0 && v.grantExpiresAt !== null
        ? html`<p>Your laptop still needs the fixes below before ${clockTime(v.grantExpiresAt)}.</p>`
        : '';
    return html`<div class="card granted-card"><p>You can open ${r} now${left}. \
Your reason was logged and will be reviewed by your IT/security team.</p>
      ${fixBy}
      ${v.resourceUrl ? html`<p>${cont(v.resourceUrl)}</p>` : ''}</div>`;
  }
  if (v.state === 'heads_up') {
    const { fixes } = problemCounts(v);
    const needs = fixes > 0 ? plural(fixes, 'fix', 'fixes') : 'a fresh check';
    return html`<div class="card"><p>You can open ${r} now, but your laptop needs \
${needs}. Soon this will be required.</p></div>`;
  }
  return html``;
}

/** The part of the page that live updates replace: to-do list, recheck, passing checks, emergency access. */
export function renderContent(v: DeviceView, o: PageOptions, now: number): { checks: SafeHtml; emergency: SafeHtml } {
  const problems = problemsOf(v);
  const passed = v.checks.filter((c) => c.status === 'pass');
  const lead = leadCard(v, now);
  const fixes = problemCounts(v).fixes;
  const todoTitle =
    fixes === 0
      ? 'What needs a fresh check'
      : v.state === 'restored' || v.state === 'granted' || v.state === 'heads_up'
        ? 'Still to fix'
        : 'What needs fixing';
  const todo =
    problems.length > 0
      ? html`<section aria-labelledby="todo-h">
    <h2 id="todo-h">${todoTitle}</h2>
    <ul class="checks">${problems.map((c) => checkItem(c, v, now))}</ul>
  </section>`
      : '';
  const showRecheck =
    v.state !== 'restored' &&
    v.state !== 'unknown_device' &&
    v.state !== 'not_your_device' &&
    (problems.length > 0 || v.decision === 'deny');
  const passedBlock =
    passed.length > 0
      ? html`<details class="passed">
    <summary>${plural(passed.length, 'check', 'checks')} passed</summary>
    <ul class="checks compact">${passed.map((c) => checkItem(c, v, now))}</ul>
  </details>`
      : '';
  return {
    checks: html`${noticeBlock(o.notice)}${lead}${todo}${showRecheck ? recheckBlock(v, o, now) : ''}${passedBlock}`,
    emergency: renderEmergency(v, o, now),
  };
}
