/**
 * Publishes the audit log's head (issue #15 item 2) so a copy lives outside the database: at start and then
 * every `intervalMs` when it changed, as an `audit.head` log line (`anchor`: `<seq>:<hash>`, what
 * `trustgate audit verify --anchor` and `GET /api/v1/audit/verify?anchor=` take) and through `notify` (the
 * policy webhook). Whoever rewrites the database afterwards cannot make the published head disappear.
 */
import type { Logger } from '../shared/log.js';
import { errorMessage } from '../shared/errors.js';
import { anchorText, type ChainAnchor } from './chain.js';

export interface HeadPublisherDeps {
  head(): Promise<ChainAnchor | null>;
  log: Logger;
  /** Sends a text message (the webhook); never throws. */
  notify?: (text: string) => void;
  /** 0: only the first publication at start. */
  intervalMs: number;
}

/** Starts publishing; returns what stops it, and `publish` (one publication now, when the head moved). */
export function startHeadPublisher(deps: HeadPublisherDeps): { stop(): void; publish(): Promise<void> } {
  let last: string | undefined;
  const publish = async (): Promise<void> => {
    try {
      const head = await deps.head();
      if (!head) return;
      const anchor = anchorText(head);
      if (anchor === last) return;
      last = anchor;
      deps.log.info({ event: 'audit.head', seq: head.seq, anchor }, 'audit log head (keep a copy: --anchor)');
      deps.notify?.(`Trustgate audit head: ${anchor} (verify later with: trustgate audit verify --anchor ${anchor})`);
    } catch (e) {
      deps.log.warn({ event: 'audit.head_failed', err: errorMessage(e) }, 'audit head not published');
    }
  };
  void publish();
  const timer = deps.intervalMs > 0 ? setInterval(() => void publish(), deps.intervalMs) : undefined;
  timer?.unref();
  return { stop: () => clearInterval(timer), publish };
}
