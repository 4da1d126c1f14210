/**
 * The remediation page's form posts: POST /device/recheck, /device/break-glass and
 * /device/break-glass/cancel. Each answers a plain form post with 303 back to the page (Post/Redirect/Get,
 * with a notice), and the page's script (it asks for JSON) with 202 or a failure. A refused emergency
 * access shows the page again with the form's field errors or the refusal (a PageError of kind `form`).
 */
import type Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { Context } from 'koa';
import { errorMessage, isAppError, unavailable, type AppError } from '../shared/errors.js';
import { PageError } from './failure.js';
import type { DeviceLink } from './link.js';
import type { FormState } from './render.js';
import { durationChoices } from './render-emergency.js';
import type { PageRequests } from './request.js';
import { breakGlassForm, cancelForm, linkForm, type BreakGlassForm } from './schemas.js';
import type { PeopleDeps, PeopleService } from './service.js';

const formBody = bodyParser({ enableTypes: ['form', 'json'], formLimit: '32kb', jsonLimit: '32kb' });

/** Post/Redirect/Get: a form post answers 303 See Other, back to the page. */
function seeOther(ctx: Context, url: string): void {
  ctx.status = 303;
  ctx.redirect(url);
}

const pageUrl = (token: string, query = ''): string => `/device?t=${encodeURIComponent(token)}${query}`;

const UNKNOWN_LAPTOP = "We don't recognise this laptop, so we can't give it emergency access.";

/** A refusal of the recheck cool-down: the seconds to wait; undefined for any other failure. */
const coolDownOf = (e: unknown): number | undefined =>
  isAppError(e) && e.code === 'conflict' ? (e.retryAfterS ?? 15) : undefined;

/** A recheck that failed for another reason than the cool-down, as the page's script is told. */
const recheckFailed = (cause: unknown): AppError =>
  unavailable("We couldn't ask your laptop to check again just now. Try again in a moment.", { cause });

/** The emergency-access form's field errors (in `form`), and the duration chosen when it has none. */
function checkedForm(body: BreakGlassForm, form: FormState, maxDurationMs: number): { reason: string; ms?: number } {
  const reason = (body.reason ?? '').trim();
  const reasonError =
    reason.length === 0
      ? 'Enter a reason: your IT team needs to know why.'
      : reason.length < 10
        ? 'Give a little more detail: at least 10 characters.'
        : undefined;
  if (reasonError) form.errors.push({ field: 'reason', message: reasonError });
  const choice = durationChoices(maxDurationMs).find((c) => c.value === form.duration);
  if (!choice) form.errors.push({ field: 'duration', message: 'Choose how long you need access.' });
  return choice ? { reason, ms: choice.ms } : { reason };
}

export function formRoutes(
  r: Router,
  deps: Pick<PeopleDeps, 'breakGlass' | 'log' | 'policy'>,
  svc: Pick<PeopleService, 'recheck'>,
  req: Pick<PageRequests, 'posted'>,
  wantsJson: (ctx: Context) => boolean,
): void {
  r.post('/device/recheck', formBody, async (ctx) => {
    const { body, link } = req.posted(ctx, linkForm);
    let out: Awaited<ReturnType<PeopleService['recheck']>>;
    try {
      out = await svc.recheck(link);
    } catch (e) {
      const waitS = coolDownOf(e);
      if (waitS === undefined) {
        deps.log.warn({ event: 'people.recheck_failed', err: errorMessage(e) }, 'recheck from the page failed');
      }
      if (wantsJson(ctx)) throw waitS === undefined ? recheckFailed(e) : e;
      seeOther(ctx, pageUrl(body.t, waitS === undefined ? '&m=recheck_failed' : `&m=wait&w=${waitS}`));
      return;
    }
    if (!wantsJson(ctx)) {
      seeOther(ctx, pageUrl(body.t, '&m=recheck'));
      return;
    }
    ctx.status = 202;
    ctx.body = { queued: out.queued, requested_at: out.requestedAt, available_at: out.availableAt };
  });

  r.post('/device/break-glass', formBody, async (ctx) => {
    const { body, link } = req.posted(ctx, breakGlassForm, (b) => (b.reason ?? '').trim());
    const form: FormState = { reason: body.reason ?? '', duration: body.duration ?? '', errors: [] };
    const formError = (code: AppError['code'], message: string) =>
      new PageError(code, message, { kind: 'form', link, token: body.t, form });
    const { reason, ms } = checkedForm(body, form, deps.policy().breakGlass.maxDurationMs);
    const [first] = form.errors;
    if (first || ms === undefined) throw formError('invalid', first?.message ?? 'Choose how long you need access.');
    try {
      await requestAccess(deps, link, reason, ms, body.idempotency_key);
    } catch (e) {
      if (!isAppError(e) || e.code === 'unavailable') throw e;
      if (e.code === 'invalid') form.errors.push({ field: 'reason', message: e.message });
      else form.refusal = e.code === 'not_found' ? UNKNOWN_LAPTOP : e.message;
      throw formError(e.code, e.message);
    }
    seeOther(ctx, pageUrl(body.t));
  });

  r.post('/device/break-glass/cancel', formBody, async (ctx) => {
    const { body, link } = req.posted(ctx, cancelForm);
    const g = await deps.breakGlass.get(body.id);
    if (!g || g.serial !== link.serial || g.user !== link.user) {
      seeOther(ctx, pageUrl(body.t));
      return;
    }
    try {
      await deps.breakGlass.cancel(body.id, link.user);
    } catch (e) {
      // decided meanwhile (approved, declined, expired): the page shows what happened
      if (!isAppError(e) || e.code !== 'conflict') throw e;
    }
    seeOther(ctx, pageUrl(body.t, '&m=cancelled'));
  });
}

/** The person's own emergency-access request, for the device, user and resource their link names. */
async function requestAccess(
  deps: Pick<PeopleDeps, 'breakGlass'>,
  link: DeviceLink,
  reason: string,
  durationMs: number,
  idempotencyKey: string | undefined,
): Promise<void> {
  await deps.breakGlass.request({
    serial: link.serial,
    user: link.user,
    resource: link.resource,
    reason,
    durationMs,
    requestedBy: link.user,
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
}
