// @ts-check
'use strict';
/*
 * The remediation page's progressive enhancement (served as /device/assets/page.<hash>.js by
 * people/assets.ts, under `script-src 'self'`). The page is complete without it: server-rendered HTML,
 * plain form posts that redirect back. With it, the page
 * - follows the device live: SSE on /device/events, or polling /device/status every 3 s when SSE is
 *   missing or gives up; a new version swaps in the check list and the emergency-access section
 *   (/device/fragment) without losing focus or a reason being typed;
 * - announces milestones once in the live region (#live);
 * - posts Recheck in the background (JSON), counts the seconds waited and the cool-down;
 * - names the chosen duration on the emergency-access button, and focuses the error summary.
 * Type-checked as browser code (lib DOM) by ./tsconfig.json, apart from the server's TypeScript.
 * The code sits in a block, not a function: in this strict script, block scope keeps every name (start,
 * stop, apply, …) off the page's globals.
 */

/**
 * What /device/status and the SSE `status` event send (people/render.ts statusPayload).
 * @typedef {object} StatusPayload
 * @property {string} version
 * @property {string} state
 * @property {string} title
 * @property {string} h1
 * @property {string} status_text
 * @property {string} last_report
 * @property {number} server_now
 */

/**
 * What /device/fragment sends: the replaceable parts of the page as HTML (rendered and escaped by the server).
 * @typedef {object} Fragment
 * @property {string} checks
 * @property {string} emergency
 */

/**
 * A failure of the page's JSON answers (http/errors.ts): the message is written for the person.
 * @typedef {{ error?: { code?: string; message?: string } }} ErrorBody
 */

{
  const doc = document;
  doc.documentElement.classList.add('js');
  const main = doc.getElementById('main');
  const token = main?.dataset.token;
  const q = `?t=${encodeURIComponent(token ?? '')}`;
  let version = main?.dataset.version;
  let state = main?.dataset.state;
  /** @type {EventSource | null} */
  let es = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  let poll = null;
  /** Server clock minus ours (ms), so countdowns match the server's cool-down. */
  let skew = 0;
  /** @type {string | null} */
  let lastAnnounced = null;
  /** Set once the link expired: nothing is fetched any more. */
  let stopped = false;

  /**
   * The element with this id when it is of the given kind.
   * @template {HTMLElement} T
   * @param {string} id
   * @param {{ new (): T; prototype: T }} kind
   * @returns {T | null}
   */
  function byId(id, kind) {
    const el = doc.getElementById(id);
    return el instanceof kind ? el : null;
  }
  /** @param {string} id */
  const $ = (id) => byId(id, HTMLElement);

  /** Says `text` in the live region, once per distinct text; an empty text clears it. */
  function announce(/** @type {string} */ text) {
    const live = $('live');
    if (!live) return;
    if (text && text !== lastAnnounced) {
      live.textContent = text;
      lastAnnounced = text;
    } else if (!text) {
      live.textContent = '';
    }
  }

  function focusSummary() {
    $('error-summary')?.focus();
  }

  /**
   * Runs `fn` (which replaces the container's content) and gives focus back to the element that had it.
   * @param {HTMLElement} container
   * @param {() => void} fn
   */
  function keepFocus(container, fn) {
    const active = doc.activeElement;
    const id = active && container.contains(active) ? active.id : null;
    fn();
    if (id) $(id)?.focus();
  }

  /** Replaces the check list and, unless the person is filling in the form, the emergency-access section. */
  function swap() {
    fetch(`/device/fragment${q}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((/** @type {Fragment | null} */ f) => {
        if (!f) return;
        const checksArea = $('checks-area');
        const bgArea = $('bg-area');
        if (checksArea)
          keepFocus(checksArea, () => {
            checksArea.innerHTML = f.checks;
          });
        const form = $('bg-form');
        const reason = byId('bg-reason', HTMLTextAreaElement);
        const busy = form && (form.contains(doc.activeElement) || (reason && reason.value.trim() !== ''));
        if (bgArea && !busy)
          keepFocus(bgArea, () => {
            bgArea.innerHTML = f.emergency;
          });
        enhance();
      })
      .catch(() => undefined);
  }

  /** Applies a status update: title, headline, last report, live-region class; swaps on a new version. */
  function apply(/** @type {StatusPayload} */ s) {
    if (s.server_now) skew = s.server_now - Date.now();
    doc.title = s.title;
    const h = $('h1');
    if (h && h.textContent !== s.h1) h.textContent = s.h1;
    const lastReport = $('last-report');
    if (lastReport) lastReport.textContent = s.last_report;
    const live = $('live');
    if (live) live.className = `status ${s.state}`;
    if (s.version !== version) {
      version = s.version;
      state = s.state;
      if (main) main.dataset.state = s.state;
      announce(s.status_text);
      swap();
    } else if (s.status_text && s.status_text !== lastAnnounced && s.state !== state) {
      announce(s.status_text);
    }
    // restored or granted: keep listening, access may change again
  }

  function onExpired() {
    stop();
    stopped = true;
    announce('This link has expired. Open the app again to get a new one.');
  }

  function startPoll() {
    if (poll || stopped) return;
    poll = setInterval(() => {
      fetch(`/device/status${q}`, { headers: { Accept: 'application/json' } })
        .then((r) => {
          if (r.status === 410 || r.status === 403) {
            onExpired();
            return null;
          }
          return r.ok ? r.json() : null;
        })
        .then((/** @type {StatusPayload | null} */ s) => {
          if (s) apply(s);
        })
        .catch(() => undefined);
    }, 3000);
  }

  /** Follows the status: SSE when the browser has it (polling once it gives up), else polling. */
  function start() {
    if (stopped || doc.hidden) return;
    if (!window.EventSource) {
      startPoll();
      return;
    }
    if (es) return;
    const source = new EventSource(`/device/events${q}`);
    es = source;
    source.addEventListener('status', (e) => {
      try {
        apply(JSON.parse(e.data));
      } catch {
        // a malformed event: the next one carries the whole status again
      }
    });
    source.addEventListener('expired', onExpired);
    source.onerror = () => {
      if (es === source && source.readyState === EventSource.CLOSED) {
        es = null;
        startPoll();
      }
    };
  }

  function stop() {
    if (es) {
      es.close();
      es = null;
    }
    if (poll) {
      clearInterval(poll);
      poll = null;
    }
  }

  const cooldownText = (/** @type {number} */ leftS) => `You can check again in ${leftS} s.`;

  /** Every second: the seconds waited for the laptop, and the recheck cool-down. */
  function tick() {
    const now = Date.now() + skew;
    const elapsed = doc.querySelector('.elapsed[data-since]');
    if (elapsed instanceof HTMLElement) {
      const s = Math.max(0, Math.round((now - Number(elapsed.dataset.since)) / 1000));
      elapsed.textContent = `(${s} s)`;
    }
    const form = doc.querySelector('.recheck-form');
    const btn = $('recheck-btn');
    const cooldown = $('cooldown');
    if (form instanceof HTMLFormElement && btn && cooldown && btn.getAttribute('aria-disabled') !== 'true') {
      const left = Math.ceil(((Number(form.dataset.cooldownUntil) || 0) - now) / 1000);
      cooldown.textContent = left > 0 ? cooldownText(left) : '';
    }
  }

  /** The form's fields as a urlencoded body (the recheck form holds only hidden text inputs). */
  function formBody(/** @type {HTMLFormElement} */ form) {
    const body = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string') body.append(k, v);
    return body.toString();
  }

  /** Recheck in the background: 202 starts following the status; a refusal is announced as the server says it. */
  function enhanceRecheck(/** @type {HTMLFormElement} */ form) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const btn = $('recheck-btn');
      if (!btn || btn.getAttribute('aria-disabled') === 'true') return;
      const until = Number(form.dataset.cooldownUntil) || 0;
      const now = Date.now() + skew;
      if (until > now) {
        const cooldown = $('cooldown');
        if (cooldown) cooldown.textContent = cooldownText(Math.ceil((until - now) / 1000));
        return;
      }
      const old = btn.textContent;
      btn.setAttribute('aria-disabled', 'true');
      btn.textContent = 'Checking…';
      announce('Checking your laptop… usually under 30 seconds.');
      const restore = () => {
        btn.removeAttribute('aria-disabled');
        btn.textContent = old;
      };
      fetch('/device/recheck', {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: formBody(form),
      })
        .then((r) => r.json().then((/** @type {ErrorBody | null} */ body) => ({ status: r.status, body })))
        .then((res) => {
          if (res.status === 202) {
            start();
            swap();
            return;
          }
          restore();
          announce(res.body?.error?.message || 'We could not ask your laptop to check again. Try again in a moment.');
          if (res.status === 410) onExpired();
        })
        .catch(() => {
          restore();
          announce('We could not reach Trustgate. Check your connection and try again.');
        });
    });
  }

  /** The emergency-access button names the chosen duration ("Get 1 hour of access"). */
  function enhanceBreakGlass(/** @type {HTMLFormElement} */ form) {
    const submit = $('bg-submit');
    const label = () => {
      const checked = form.querySelector('input[name=duration]:checked');
      if (checked instanceof HTMLElement && submit) {
        submit.textContent = `${submit.dataset.verb} ${checked.dataset.label} of access`;
      }
    };
    form.addEventListener('change', label);
    label();
    form.addEventListener('submit', () => submit?.setAttribute('aria-disabled', 'true'));
  }

  /** Wires the forms once (they are replaced by swap(), so this runs again after each swap). */
  function enhance() {
    const recheck = doc.querySelector('.recheck-form');
    if (recheck instanceof HTMLFormElement && !recheck.dataset.enhanced) {
      recheck.dataset.enhanced = '1';
      enhanceRecheck(recheck);
    }
    const bg = byId('bg-form', HTMLFormElement);
    if (bg && !bg.dataset.enhanced) {
      bg.dataset.enhanced = '1';
      enhanceBreakGlass(bg);
    }
  }

  // Without the page's link (another page, or no token) there is nothing to follow.
  if (main && token) {
    doc.addEventListener('visibilitychange', () => {
      if (doc.hidden) stop();
      else start();
    });
    window.addEventListener('focus', start);
    setInterval(tick, 1000);
    enhance();
    focusSummary();
    start();
  }
}
