/**
 * The shipped packs and policy copied to a temp dir, plus tier `paired` (`require_device_user: true`,
 * approval none for break glass) and its resources `payroll` (enforce) and `payroll-preview` (monitor).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_PACKS } from '../support/server.js';

/** `payrollHosts`: the host rules of `payroll` (gateways that pick the resource by Host). */
export function pairedPacks(opts: { payrollHosts?: string[] } = {}): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-pairing-'));
  fs.cpSync(REPO_PACKS, dir, { recursive: true });
  const file = path.join(dir, 'policy.yaml');
  const policy = YAML.parse(fs.readFileSync(file, 'utf8')) as {
    tiers: Record<string, unknown>;
    resources: Record<string, unknown>;
    break_glass: { approval: Record<string, string> };
  };
  policy.tiers.paired = { max_age: '1h', checks: ['osquery_healthy'], require_device_user: true };
  policy.resources.payroll = {
    tier: 'paired',
    mode: 'enforce',
    title: 'Payroll',
    ...(opts.payrollHosts ? { hosts: opts.payrollHosts } : {}),
  };
  policy.resources['payroll-preview'] = { tier: 'paired', mode: 'monitor' };
  policy.break_glass.approval.paired = 'none';
  fs.writeFileSync(file, YAML.stringify(policy));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
