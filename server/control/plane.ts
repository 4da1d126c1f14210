/**
 * The control plane built in dependency order, once for the server (main.ts) and once for the CLI's
 * in-process view (cli/local.ts): last-seen registry ← posture engine ← evaluation (check states, warm
 * start) ← runtime model (packs + policy) ← host operations (enrollment, recheck, live query, unenroll).
 * The caller brings the shared pieces that live in other modules (the distributed work owner, the
 * node-key cache).
 */
import type { AuditRecorder, DevicePeopleLookup, DistributedWork, NodeKeyCache, Store } from '../domain/ports.js';
import type { Host, Pack } from '../domain/types.js';
import type { CompileOptions } from '../packs/compile.js';
import { createPostureEngine, type PostureEngine } from '../posture/engine.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { createEvaluation, type Evaluation } from './evaluation.js';
import { createLastSeen, type LastSeenRegistry } from './last-seen.js';
import { createRuntimeModel, type RuntimeModel } from './model.js';
import { createHostOperations, type HostOperations } from './operations.js';

export interface ControlPlaneDeps {
  store: Pick<Store, 'hosts' | 'results' | 'checkStates' | 'settings' | 'distributed'>;
  audit: AuditRecorder;
  work: DistributedWork;
  nodeKeys: NodeKeyCache;
  packsDir: string;
  compile: CompileOptions;
  /** Packs served to every agent whatever the packs directory holds (RuntimeModelDeps.builtinPacks). */
  builtinPacks?: readonly Pack[];
  /** The device's people, for tiers with `require_device_user` (PostureEngineDeps.people). */
  people?: DevicePeopleLookup;
  /** Re-evaluate results stored after the last persisted check states (the server; not the CLI). */
  catchUp: boolean;
  clock: Clock;
  log: Logger;
  metrics?: Pick<Metrics, 'hostsEnrolled'>;
}

export interface ControlPlane {
  engine: PostureEngine;
  evaluation: Evaluation;
  model: RuntimeModel;
  ops: HostOperations;
  /** When each host was last seen (the osquery surface marks it; flush it to the store every second). */
  lastSeen: LastSeenRegistry;
  /** Every host loaded at the warm start. */
  hosts: Host[];
  /** Results re-evaluated by the catch-up. */
  caughtUp: number;
}

/** Builds the control plane and warms it: packs and policy loaded, every host with its check states. */
export async function openControlPlane(deps: ControlPlaneDeps): Promise<ControlPlane> {
  const { store, audit, clock, log } = deps;
  const lastSeen = createLastSeen({ hosts: store.hosts });
  const engine = createPostureEngine({ clock, log, lastSeen, ...(deps.people ? { people: deps.people } : {}) });
  const evaluation = createEvaluation({
    engine,
    hosts: store.hosts,
    results: store.results,
    checkStates: store.checkStates,
    settings: store.settings,
    audit,
    clock,
    log,
  });
  const model = createRuntimeModel({
    packsDir: deps.packsDir,
    engine,
    results: store.results,
    evaluation,
    compile: deps.compile,
    ...(deps.builtinPacks ? { builtinPacks: deps.builtinPacks } : {}),
    log,
  });
  await model.reload({ startup: true });
  const { hosts, caughtUp } = await evaluation.warmStart({ catchUp: deps.catchUp });
  lastSeen.load(hosts);
  const ops = createHostOperations({
    hosts: store.hosts,
    campaigns: store.distributed,
    work: deps.work,
    nodeKeys: deps.nodeKeys,
    engine,
    model,
    lastSeen,
    audit,
    clock,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  return { engine, evaluation, model, ops, lastSeen, hosts, caughtUp };
}
