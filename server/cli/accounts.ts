/**
 * `trustgate accounts …`: the admin's mappings of local account names to people (list, map, unmap) and
 * one device's people, on the server's store, audited as the CLI's user. A change bumps the people
 * version in the store; the running server picks it up within 2 seconds.
 */
import type { Config } from '../config/load.js';
import { createAuditService } from '../audit/service.js';
import { createDevicePeopleService, type DevicePeopleService } from '../devices/people-service.js';
import type { Store } from '../domain/ports.js';
import { isoOf, systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import { table, type Args } from './args.js';
import { actor, need, out, UsageError } from './command.js';
import { openStore } from './local.js';

export const ACCOUNTS_HELP = `  accounts list                       local account → person mappings (device's people)
  accounts map ACCOUNT PERSON [--serial S]   map a local account to a person's SSO e-mail (every
                                      device, or only S, which also pairs PERSON with S); audited
  accounts unmap ACCOUNT [--serial S] remove a mapping (audited)
  accounts people SERIAL              a device's people and the logged-in accounts it reported`;

const json = (a: Args): boolean => a.bools.has('json');

async function withPeople<T>(
  cfg: Readonly<Config>,
  fn: (svc: DevicePeopleService, store: Store) => Promise<T>,
): Promise<T> {
  const store = openStore(cfg);
  const log = createLogger('silent');
  const audit = createAuditService({ repo: store.audit, clock: systemClock, log });
  const svc = createDevicePeopleService({ store, audit, rule: cfg.accountPersonRule, clock: systemClock, log });
  try {
    return await fn(svc, store);
  } finally {
    await audit.flush();
    await store.close();
  }
}

async function peopleCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 2, 'SERIAL');
  return withPeople(cfg, async (svc, store) => {
    await svc.load((await store.hosts.states()).filter((h) => h.serial === serial));
    const people = svc.peopleOf(serial);
    const accounts = svc.accountsOf(serial);
    if (json(a)) out(JSON.stringify({ serial, people, logged_in: accounts }));
    else {
      out(
        table(
          ['PERSON', 'FROM', 'ACCOUNTS'],
          people.map((p) => [p.person, p.sources.join(' '), p.accounts.join(' ')]),
        ),
      );
      out(`${people.length} person(s) registered on ${serial}`);
      for (const x of accounts) out(`  logged in: ${x.account} → ${x.person ?? '(not mapped: nobody)'}`);
    }
    return 0;
  });
}

export async function accountsCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const sub = need(a, 1, 'accounts subcommand (list|map|unmap|people)');
  const serial = a.flags.serial ?? null;
  switch (sub) {
    case 'list':
      return withPeople(cfg, async (svc) => {
        const list = await svc.listMappings();
        if (json(a)) out(JSON.stringify(list));
        else {
          const rows = list.map((m) => [
            m.account,
            m.person,
            m.serial ?? '(every device)',
            isoOf(m.createdAt),
            m.createdBy,
          ]);
          out(table(['ACCOUNT', 'PERSON', 'DEVICE', 'SINCE', 'BY'], rows));
          out(`${list.length} mapping(s)`);
        }
        return 0;
      });
    case 'map': {
      const account = need(a, 2, 'ACCOUNT (as osquery reports it)');
      const person = need(a, 3, "PERSON (the person's SSO e-mail)");
      return withPeople(cfg, async (svc) => {
        const { mapping, replaced } = await svc.setMapping({ account, person, serial }, actor());
        if (json(a)) out(JSON.stringify({ mapping, replaced }));
        else
          out(
            `Mapped account "${mapping.account}" to ${mapping.person} on ${mapping.serial ?? 'every device'}` +
              `${replaced ? ` (was ${replaced.person})` : ''}.`,
          );
        return 0;
      });
    }
    case 'unmap': {
      const account = need(a, 2, 'ACCOUNT');
      return withPeople(cfg, async (svc) => {
        const gone = await svc.removeMapping(serial, account, actor());
        out(
          json(a)
            ? JSON.stringify({ removed: gone })
            : `Removed the mapping of "${gone.account}" (${gone.person}) on ${gone.serial ?? 'every device'}.`,
        );
        return 0;
      });
    }
    case 'people':
      return peopleCmd(a, cfg);
    default:
      throw new UsageError(`unknown accounts subcommand "${sub}"`);
  }
}
