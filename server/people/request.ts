/**
 * What every remediation-page route does with its request: the signed link a token names (or the
 * PageError the person sees: missing or forged link, resource gone, expired), a form post's fields
 * checked together with its link and per-link CSRF token, and the page rendered for a link with a notice
 * or the emergency-access form's state.
 */
import type { Context } from 'koa';
import type { ValidateFunction } from 'ajv';
import { constantTimeEqual, randomId } from '../shared/crypto.js';
import { badLink, PageError } from './failure.js';
import { csrfTokenFor, verifyDeviceLink, type DeviceLink } from './link.js';
import { renderDevicePage, type FormState, type Help, type Notice, type PageOptions } from './render.js';
import { check, type LinkForm } from './schemas.js';
import type { PeopleDeps, PeopleService } from './service.js';

export type PageExtra = { notice?: Notice; form?: FormState };

export interface PageRequests {
  /** The link a token names, or a PageError: missing (invalid), forged (forbidden), resource gone, expired. */
  linkOf(ctx: Context, token: unknown, typed?: string): { link: DeviceLink; token: string };
  /** A form post's fields and link, once the fields, the link and the per-link CSRF token check out. */
  posted<T extends LinkForm>(
    ctx: Context,
    form: ValidateFunction<T>,
    typed?: (body: T) => string,
  ): { body: T; link: DeviceLink };
  /** What every rendering of the page for this token needs (CSRF token, help, a fresh form key). */
  pageOptions(token: string): PageOptions;
  /** The page for a link, with a notice or the emergency-access form's state. */
  pageHtml(link: DeviceLink, token: string, extra?: PageExtra): Promise<string>;
}

export function createPageRequests(
  deps: Pick<PeopleDeps, 'hmacKey' | 'clock' | 'policy' | 'log'>,
  svc: Pick<PeopleService, 'view'>,
  help: Help,
): PageRequests {
  function linkOf(ctx: Context, token: unknown, typed?: string): { link: DeviceLink; token: string } {
    if (typeof token !== 'string' || token === '') throw badLink('invalid', "This link doesn't work.");
    const res = verifyDeviceLink(token, deps.hmacKey, deps.clock.now());
    if (res.ok) {
      // The resource left the policy since the link was made: nothing to show.
      if (!deps.policy().resources[res.link.resource]) throw badLink('not_found', "This link doesn't work any more.");
      return { link: res.link, token };
    }
    if (res.reason === 'expired') {
      const problem = { kind: 'expired' as const, link: res.link, ...(typed ? { typed } : {}) };
      throw new PageError('expired', 'This link has expired. Open the app again to get a new one.', problem);
    }
    deps.log.warn({ event: 'people.link_invalid', ip: ctx.ip }, 'remediation link with a bad signature');
    throw badLink('forbidden', "This link doesn't work.");
  }

  function posted<T extends LinkForm>(
    ctx: Context,
    form: ValidateFunction<T>,
    typed?: (body: T) => string,
  ): { body: T; link: DeviceLink } {
    const body: unknown = ctx.request.body;
    if (!check(form, body)) throw badLink('invalid', 'This form is incomplete. Reload the page and try again.');
    const { link } = linkOf(ctx, body.t, typed?.(body));
    if (!constantTimeEqual(body.csrf, csrfTokenFor(body.t, deps.hmacKey))) {
      throw badLink('forbidden', 'This form has expired. Reload the page and try again.');
    }
    return { body, link };
  }

  const pageOptions = (token: string): PageOptions => ({
    token,
    csrf: csrfTokenFor(token, deps.hmacKey),
    help,
    formKey: randomId(12),
  });

  async function pageHtml(link: DeviceLink, token: string, extra: PageExtra = {}): Promise<string> {
    const now = deps.clock.now();
    const view = await svc.view(link);
    return renderDevicePage(view, { ...pageOptions(token), ...extra }, now).html;
  }

  return { linkOf, posted, pageOptions, pageHtml };
}
