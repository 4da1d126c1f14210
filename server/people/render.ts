/**
 * Server-rendered HTML of the remediation page (UX.md §2): every state, readable without JavaScript.
 * All dynamic text goes through the escaping `html` template; admin-written messages through `markdown`.
 * This file owns the page around the content (layout, headline, status line, footer), the link-expired,
 * link-invalid and error pages, and the live channel's JSON; the content that live updates replace is
 * in render-content.ts, the emergency-access section in render-emergency.ts.
 */
import { PAGE_CSS, PAGE_JS } from './assets.js';
import type { DeviceLink } from './link.js';
import { problemCounts, problemsOf, shownTitle, type DeviceView, type PageState } from './view.js';
import { renderContent } from './render-content.js';
import { clockTime, html, plural, raw, relAbs, safeUrl, whenAbsolute, type SafeHtml } from './html.js';

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

/** The H1 of a recheck that came back with something still not passing. */
function stillHead(v: DeviceView): string {
  const failing = problemsOf(v).filter((c) => c.status === 'fail');
  const [only] = failing;
  if (only && failing.length === 1) return `${shownTitle(only)}: still needs fixing`;
  if (failing.length > 1) return `${failing.length} things still need fixing`;
  return "We still couldn't check your laptop";
}

/**
 * The page's H1 and <title> for a state. Fixes (failing checks, something for the person to do) and
 * checks that only need a fresh result from the laptop are counted apart: "Fix 1 thing" on a laptop with
 * one failing and seven stale checks.
 */
export function headline(v: DeviceView): { h1: string; title: string } {
  const r = v.resourceTitle;
  const probs = problemsOf(v);
  const { fixes, checks } = problemCounts(v);
  const t = (s: string) => `${s} · ${r} · Trustgate`;
  const denyHead = (): { h1: string; title: string } => {
    if (fixes > 0)
      return {
        h1: `Fix ${plural(fixes, 'thing', 'things')} to open ${r}`,
        title: t(`${plural(fixes, 'fix', 'fixes')} needed`),
      };
    if (probs.some((c) => c.status === 'stale'))
      return { h1: 'We need a fresh check of your laptop', title: t('Fresh check needed') };
    if (checks > 0) return { h1: "We couldn't check your laptop", title: t("Couldn't check") };
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
      return fixes > 0
        ? { h1: `${plural(fixes, 'thing', 'things')} left to fix`, title: t(`${plural(fixes, 'fix', 'fixes')} left`) }
        : { h1: 'Fixed. Your laptop needs one more check', title: t('One more check needed') };
    case 'still_failing':
      return { h1: stillHead(v), title: t('Still needs fixing') };
    case 'no_answer':
      return { h1: "Your laptop didn't answer", title: t('No answer from your laptop') };
    case 'restored':
      return { h1: `You're all set. You can open ${r} again`, title: t('Access restored') };
    case 'heads_up':
      return fixes > 0
        ? {
            h1: `You're in, but ${plural(fixes, 'fix is', 'fixes are')} needed`,
            title: t(`${plural(fixes, 'fix', 'fixes')} needed soon`),
          }
        : { h1: "You're in, but your laptop needs a fresh check", title: t('Fresh check needed soon') };
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
    case 'not_your_device':
      return { h1: `${r} only opens on a device you are registered on`, title: t('Not your device') };
  }
}

/** The live status line (announced at milestones only). */
export function statusText(v: DeviceView, now: number): string {
  const title = (id: string) => v.checks.find((c) => c.id === id)?.title ?? id;
  const stillTitle = (id: string) => {
    const c = v.checks.find((x) => x.id === id);
    return c ? shownTitle(c) : id;
  };
  switch (v.state) {
    case 'checking':
      return 'Checking your laptop… usually under 30 seconds.';
    case 'no_answer':
      return v.recheck.requestedAt !== null
        ? `We asked your laptop at ${clockTime(v.recheck.requestedAt)} and got no answer.`
        : 'We got no answer from your laptop.';
    case 'partly_fixed':
      return (
        `Fixed: ${v.recheck.fixed.map(title).join(', ')}. ` +
        `Still needs fixing: ${v.recheck.still.map(stillTitle).join(', ')}.`
      );
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

const FAVICON =
  'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 16 16%22%3E' +
  '%3Crect width=%2216%22 height=%2216%22 rx=%224%22 fill=%22%231f4fd1%22/%3E%3C/svg%3E';

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
<header class="top"><div class="wrap">\
<span class="brand"><span class="logo" aria-hidden="true"></span>Trustgate</span>\
<span class="top-sub">Device check</span></div></header>
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
  const contact = url ? html`<a href="${url}" rel="noreferrer noopener">${text}</a>` : text;
  const expiry =
    extra.expiresAt !== undefined
      ? html`<p>For your security, this link stops working at ${whenAbsolute(extra.expiresAt, extra.now)}.</p>`
      : '';
  return html`<p><strong>Need help?</strong> ${contact}</p>
  ${extra.ref ? html`<p>Reference for IT: <code class="ref">${extra.ref}</code></p>` : ''}
  ${expiry}`;
}

/** Whose device it is (as much as is safe to show: view.ts maskPerson) and whom to ask. */
function notYourDevice(v: DeviceView): SafeHtml {
  const who = v.link.user
    ? html`You're signed in as <strong>${v.link.user}</strong>.`
    : html`We couldn't tell who you are: open ${v.resourceTitle} through your company sign-in.`;
  const [first, ...more] = v.devicePeople;
  const others = more.length ? ` and ${plural(more.length, 'other person', 'other people')}` : '';
  const whose = first
    ? html`This device is registered to <strong>${first}</strong>${others}.`
    : html`No one is registered on this device yet.`;
  return html`<div class="card"><p>${who} ${whose} \
${v.resourceTitle} only opens on a device you are registered on.</p>
<p>Use your own device. If this one is yours now, ask your IT team to register you on it: give them this \
serial number <code class="serial">${v.link.serial}</code> and the reference below.</p></div>`;
}

export function renderDevicePage(v: DeviceView, o: PageOptions, now: number): { html: string; title: string } {
  const { h1, title } = headline(v);
  const h = v.host;
  const who = v.link.user;
  if (v.state === 'unknown_device') {
    const guide = safeUrl(o.help.enrollGuideUrl);
    const setUp = guide
      ? html`<p><a class="btn primary" href="${guide}" rel="noreferrer noopener">How to set up your laptop</a></p>`
      : '';
    const body = html`<h1 id="h1">${h1}</h1>
<div id="live" role="status" aria-live="polite" class="status"></div>
<div class="card"><p>We have no record of a laptop with this serial number, \
so we can't let it open ${v.resourceTitle} yet. \
It needs to be set up with your organisation's device agent first.</p>
${setUp}
<p>Give your IT team this serial number: <code class="serial">${v.link.serial}</code> (for IT).</p></div>`;
    return {
      html: layout({ title, body, footer: footer(o.help, { ref: v.ref, expiresAt: v.link.expiresAt, now }) }),
      title,
    };
  }
  if (v.state === 'not_your_device') {
    const body = html`<h1 id="h1">${h1}</h1>
<div id="live" role="status" aria-live="polite" class="status"></div>
${notYourDevice(v)}`;
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
<p class="context">${device}${who ? ` · ${who}` : ''} · \
serial <span class="serial">${v.link.serial}</span> <span class="muted">(for IT)</span></p>
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
  const open = resourceUrl
    ? html`<p><a class="btn primary" href="${resourceUrl}" rel="noreferrer">Open ${resourceTitle}</a></p>`
    : '';
  const body = html`<h1>This link has expired</h1>
<div class="card"><p>For your security, links to this page work for a short time only; \
this one stopped working ${relAbs(link.expiresAt, now)}.</p>
<p>Open ${resourceTitle} again to get a new link.</p>
${open}</div>
${
  typed
    ? html`<div class="card"><h2>What you typed</h2><p>So you don't lose it, here is the text you entered. \
Copy it before you leave this page.</p>
<label for="typed">Your reason</label><textarea id="typed" readonly rows="3">${typed}</textarea></div>`
    : ''
}`;
  return layout({ title: 'Link expired · Trustgate', body, footer: footer(help, { now }) });
}

/** "This link doesn't work": no data, no hint whether the device exists. */
export function renderInvalidPage(help: Help, now: number): string {
  const body = html`<h1>This link doesn't work</h1>
<div class="card"><p>It may have been cut short or changed when it was copied. \
Open the app you were trying to reach again to get a fresh link, or contact your IT team.</p></div>`;
  return layout({ title: "Link doesn't work · Trustgate", body, footer: footer(help, { now }) });
}

export function renderErrorPage(help: Help, now: number): string {
  const body = html`<h1>Something went wrong on our side</h1>
<div class="card"><p>This isn't something you did. \
Reload the page in a moment; if it keeps happening, contact your IT team.</p></div>`;
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
