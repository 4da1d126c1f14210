/**
 * Slack-compatible webhook notifications ({text, blocks}) for break-glass events. Delivery is retried with
 * exponential backoff in the background and never blocks the request path; a failing webhook is logged,
 * never fatal. A URL whose host is (or resolves to) a non-public address is refused unless allowed.
 */
import type { BreakGlassGrant } from '../domain/types.js';
import { errorMessage } from '../shared/errors.js';
import { formatDuration } from '../shared/duration.js';
import { escapeMrkdwn } from '../shared/escape.js';
import type { Logger } from '../shared/log.js';
import { webhookTargetProblem, type Resolve } from '../shared/webhook-target.js';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/** The subset of the global fetch the notifier needs (inject a fake or the real one). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

export interface WebhookNotifier {
  /** Starts delivery in the background; the returned promise resolves to true once delivered (never rejects). */
  send(url: string, message: SlackMessage): Promise<boolean>;
  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
}

export interface WebhookDeps {
  fetch: FetchLike;
  log: Logger;
  /** Attempts in total (default 5). */
  attempts?: number;
  /** First backoff (default 1 s), doubled after each failure, capped at 60 s. */
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Injected so tests do not wait (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Loopback, link-local and private targets allowed (TRUSTGATE_WEBHOOK_ALLOW_PRIVATE); default refused. */
  allowPrivate?: boolean;
  /** Name resolution for that check (default DNS). */
  resolve?: Resolve;
}

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export function createWebhookNotifier(deps: WebhookDeps): WebhookNotifier {
  const attempts = deps.attempts ?? 5;
  const base = deps.baseDelayMs ?? 1000;
  const timeoutMs = deps.timeoutMs ?? 5000;
  const sleep = deps.sleep ?? realSleep;
  const inFlight = new Set<Promise<boolean>>();

  async function deliver(url: string, message: SlackMessage): Promise<boolean> {
    if (deps.allowPrivate !== true) {
      const problem = await webhookTargetProblem(url, deps.resolve);
      if (problem !== undefined) {
        deps.log.error({ event: 'webhook.refused', reason: problem }, 'webhook not sent: its address is not public');
        return false;
      }
    }
    const body = JSON.stringify(message);
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const res = await deps.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.ok) return true;
        deps.log.warn(
          { event: 'webhook.failed', attempt, status: res.status },
          'break-glass webhook answered an error',
        );
        // 4xx other than 408/429 will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (e) {
        deps.log.warn({ event: 'webhook.failed', attempt, err: errorMessage(e) }, 'break-glass webhook unreachable');
      }
      if (attempt < attempts) await sleep(Math.min(base * 2 ** (attempt - 1), 60_000));
    }
    deps.log.error({ event: 'webhook.gave_up', attempts }, 'break-glass webhook delivery gave up');
    return false;
  }

  return {
    send(url, message) {
      const p = deliver(url, message).catch((e: unknown) => {
        deps.log.error({ event: 'webhook.failed', err: errorMessage(e) }, 'break-glass webhook crashed');
        return false;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return p;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type BreakGlassEvent = 'requested' | 'approved' | 'denied' | 'revoked';

/** The Slack-compatible message for a break-glass event. */
export function breakGlassMessage(
  event: BreakGlassEvent,
  g: BreakGlassGrant,
  opts: { actor: string; comment?: string; resourceTitle?: string },
): SlackMessage {
  const what = opts.resourceTitle ? `${opts.resourceTitle} (${g.resource})` : g.resource;
  const dur = formatDuration(g.durationMs);
  const until = g.expiresAt !== null ? ` until ${new Date(g.expiresAt).toISOString()}` : '';
  const head = {
    requested:
      g.status === 'pending'
        ? `:rotating_light: Emergency access requested by ${g.user} for ${what} (${dur}, tier ${g.tier})` +
          ' — needs approval'
        : `:rotating_light: Emergency access granted to ${g.user} for ${what} (${dur}, tier ${g.tier})${until}`,
    approved: `:white_check_mark: Emergency access for ${g.user} to ${what} approved by ${opts.actor}${until}`,
    denied: `:no_entry: Emergency access for ${g.user} to ${what} declined by ${opts.actor}`,
    revoked: `:no_entry_sign: Emergency access for ${g.user} to ${what} revoked by ${opts.actor}`,
  }[event];
  const fields = [
    `*Reason:* ${escapeMrkdwn(g.reason)}`,
    `*Device:* ${escapeMrkdwn(g.serial)}   *Grant:* ${g.id}   *Status:* ${g.status}`,
    ...(opts.comment ? [`*Comment:* ${escapeMrkdwn(opts.comment)}`] : []),
  ];
  return {
    text: escapeMrkdwn(head),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(head) } },
      { type: 'section', text: { type: 'mrkdwn', text: fields.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Trustgate break glass · ${event}` }] },
    ],
  };
}
