/**
 * `trustgate <command>`: the CLI (SPEC §8). It reads the same settings as the server (TRUSTGATE_* or
 * --flags), and acts on that server's data directory directly: tokens, secrets, hosts, verdicts,
 * rechecks (queued in the store; the running server delivers them within seconds), apply, audit.
 * Exit codes: 0 ok, 1 failure/refusal (e.g. deny with --exit-code, audit chain broken), 2 usage error.
 *
 * This module is the dispatcher: help, which module runs which command, and how failures become exit
 * codes. The commands are grouped by job: credentials.ts (token, secret), hosts.ts (hosts, host),
 * devices.ts (verdict, recheck), packs.ts (apply, import), audit.ts, osquery-flags.ts; serve and
 * simulate are loaded on demand.
 */
import path from 'node:path';
import { loadConfig, SETTING_DOCS } from '../config/load.js';
import { AppError, errorMessage } from '../shared/errors.js';
import { parseArgs } from './args.js';
import { auditCmd } from './audit.js';
import { configOf, err, out, UsageError } from './command.js';
import { secretCmd, tokenCmd } from './credentials.js';
import { recheckCmd, verdictCmd } from './devices.js';
import { DEVICE_CERT_HELP, deviceCertCmd } from './device-certs.js';
import { hostCmd, hostsCmd } from './hosts.js';
import { DEVICES_HELP, devicesCmd } from './inventory.js';
import { ACCOUNTS_HELP, accountsCmd } from './accounts.js';
import { osqueryFlagsCmd } from './osquery-flags.js';
import { applyCmd, importCmd } from './packs.js';

const BOOL_FLAGS = new Set([
  'json',
  'help',
  'failing',
  'dry-run',
  'exit-code',
  'force',
  'replace',
  'no-p12',
  'revoke-hosts',
]);

/** One setting in the help: its flag, its environment variable, its default. */
const settingLine = (s: (typeof SETTING_DOCS)[number]): string =>
  `  ${s.flag.padEnd(24)} ${s.env.padEnd(32)} default ${String(s.default ?? '(derived)')}`;

const HELP_MAIN = `trustgate — osquery fleet manager and device-posture verdicts

Usage: trustgate <command> [options]

Commands:
  serve                               run the server (HTTPS, osquery TLS API, gateway and admin APIs)
  token create --role R --name N      create an API token (admin|gateway|viewer); printed once
  token revoke NAME|ID                revoke a token
  token list                          list tokens (never their secrets)
  secret create NAME [--expires-in 30d] [--value V]   create an enroll secret; printed once
  secret list | secret revoke NAME [--revoke-hosts]   list or revoke enroll secrets (and unenroll its hosts)
  hosts [--failing] [--platform P]    list enrolled hosts with their decisions
  host SERIAL                         one host: decisions, every check, recent status logs
  verdict SERIAL --resource R [--user U] [--exit-code]   the decision and its reasons
  recheck SERIAL                      queue the host's failing and stale checks (delivered with accelerate)
  apply DIR|FILE [--dry-run]          validate and install packs (*.json, *.conf) and policy.yaml
  import fleet FILE [--out F]         convert Fleet policy YAML into a pack of checks
  audit verify                        verify the audit log's hash chain
${DEVICES_HELP}
${ACCOUNTS_HELP}
${DEVICE_CERT_HELP}
  osquery-flags                       the osqueryd flags for this server (osquery-examples/osquery.flags, filled in)
  simulate --hosts N [--server URL]   run simulated osquery agents (see simulate --help)

Every command accepts --json (machine output) and the settings below (flag or env var):
${SETTING_DOCS.map(settingLine).join('\n')}`;

export async function main(argv: readonly string[]): Promise<number> {
  const a = parseArgs(argv, BOOL_FLAGS);
  const cmd = a.positionals[0];
  try {
    if (!cmd || cmd === 'help' || (a.bools.has('help') && cmd !== 'simulate')) {
      out(HELP_MAIN);
      return cmd || a.bools.has('help') ? 0 : 2;
    }
    if (cmd === 'simulate') {
      const { runSimulate } = await import('../sim/cli.js');
      // defaults from the same settings as the server: its URL, enroll secret and dev CA
      const cfg = loadConfig(process.env);
      return await runSimulate(argv.slice(1), {
        server: cfg.publicUrl,
        secretFile: path.join(cfg.dataDir, 'enroll_secret'),
        caFile: path.join(cfg.certsDir, 'ca.crt'),
      });
    }
    if (cmd === 'serve') {
      const { serve } = await import('./serve.js');
      return await serve(configOf(a));
    }
    if (cmd === 'import') return importCmd(a);
    const cfg = configOf(a);
    switch (cmd) {
      case 'token':
        return await tokenCmd(a, cfg);
      case 'secret':
        return await secretCmd(a, cfg);
      case 'hosts':
        return await hostsCmd(a, cfg);
      case 'host':
        return await hostCmd(a, cfg);
      case 'verdict':
        return await verdictCmd(a, cfg);
      case 'recheck':
        return await recheckCmd(a, cfg);
      case 'apply':
        return await applyCmd(a, cfg);
      case 'audit':
        return await auditCmd(a, cfg);
      case 'devices':
        return await devicesCmd(a, cfg);
      case 'accounts':
        return await accountsCmd(a, cfg);
      case 'device-cert':
        return await deviceCertCmd(a, cfg);
      case 'osquery-flags':
        return osqueryFlagsCmd(cfg);
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`trustgate: ${e.message}\nRun "trustgate --help" for usage.`);
      return 2;
    }
    err(`trustgate: ${e instanceof AppError ? e.message : errorMessage(e)}`);
    return 1;
  }
}
