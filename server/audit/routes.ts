/**
 * GET /api/v1/audit (filters: type — exact, or a prefix ending in `*` such as `break_glass.*` — actor, serial,
 * since/until as ISO time or epoch ms, limit ≤ 1000, after_seq for paging; oldest first) and
 * GET /api/v1/audit/verify[?anchor=<seq>:<hash>] ({ok, count, legacy} or {ok:false, seq, problem}, plus the
 * current head; with an anchor saved elsewhere, a cut tail or a rewrite before it fails), for admin and viewer
 * tokens.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { Ajv, type JSONSchemaType } from 'ajv';
import type { AuditEntry, Role } from '../domain/types.js';
import { invalid } from '../shared/errors.js';
import type { AuditService } from './service.js';
import { parseAnchor } from './chain.js';

export type RequireRole = (...roles: Role[]) => Middleware;

interface AuditQuery {
  type?: string;
  actor?: string;
  serial?: string;
  since?: string;
  until?: string;
  limit?: number;
  after_seq?: number;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true });
const querySchema: JSONSchemaType<AuditQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', nullable: true, minLength: 1, maxLength: 100 },
    actor: { type: 'string', nullable: true, minLength: 1, maxLength: 200 },
    serial: { type: 'string', nullable: true, minLength: 1, maxLength: 200 },
    since: { type: 'string', nullable: true, minLength: 1, maxLength: 40 },
    until: { type: 'string', nullable: true, minLength: 1, maxLength: 40 },
    limit: { type: 'integer', nullable: true, minimum: 1, maximum: 1000 },
    after_seq: { type: 'integer', nullable: true, minimum: 0 },
  },
};
const validateQuery = ajv.compile(querySchema);

/** Accepts epoch milliseconds or an ISO-8601 date/time. */
export function parseTime(name: string, text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw invalid(`${name} must be an ISO-8601 time or epoch milliseconds, got "${text}"`);
  return ms;
}

export function auditEntryJson(e: AuditEntry): Record<string, unknown> {
  return {
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    type: e.type,
    actor: e.actor,
    serial: e.serial,
    data: e.data,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export function auditRouter(
  deps: { audit: Pick<AuditService, 'list' | 'verifyWithHead'> },
  requireRole: RequireRole,
): Router {
  const r = new Router();
  r.get('/api/v1/audit', requireRole('admin', 'viewer'), async (ctx) => {
    const q: unknown = { ...ctx.query };
    if (!validateQuery(q))
      throw invalid(`invalid query: ${ajv.errorsText(validateQuery.errors, { dataVar: 'query' })}`);
    const limit = q.limit ?? 100;
    const entries = await deps.audit.list({
      ...(q.type !== undefined ? { type: q.type } : {}),
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.serial !== undefined ? { serial: q.serial } : {}),
      ...(q.since !== undefined ? { since: parseTime('since', q.since) } : {}),
      ...(q.until !== undefined ? { until: parseTime('until', q.until) } : {}),
      ...(q.after_seq !== undefined ? { afterSeq: q.after_seq } : {}),
      limit,
    });
    const last = entries[entries.length - 1];
    ctx.body = {
      entries: entries.map(auditEntryJson),
      next_after_seq: entries.length === limit && last ? last.seq : null,
    };
  });
  r.get('/api/v1/audit/verify', requireRole('admin', 'viewer'), async (ctx) => {
    const raw = ctx.query.anchor;
    if (Array.isArray(raw) || (raw !== undefined && raw.length > 200)) throw invalid('anchor: one <seq>:<hash>');
    const anchor = raw === undefined ? undefined : parseAnchor(raw);
    if (raw !== undefined && !anchor) throw invalid('anchor must be a published head, <seq>:<hash>');
    const { result, head } = await deps.audit.verifyWithHead(anchor);
    ctx.body = { ...result, head };
  });
  return r;
}
