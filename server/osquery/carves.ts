/**
 * File carves (POST /api/v1/osquery/carve/begin and carve/block): a session is opened only for a carve
 * Trustgate asked for (a live query on the carves table, see `carveRefusal`), with sizes that must agree
 * and stay within the configured caps (TRUSTGATE_CARVE_MAX_BYTES; a block within the body limit); blocks
 * are stored as they arrive (any order, duplicates ignored). A block is authenticated by
 * its session id (osquery before 5.23 sends nothing else; the id is shown to admins only) and, when it
 * carries a node key (5.23+), by that key too, which must be the key of the host that began the session.
 * The finished archive is served by the admin API, streamed block by block.
 */
import type { Carve, CarveRepo, DistributedRepo, HostRepo, SentQuery } from '../domain/ports.js';
import type { Host } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { AppError, conflict, forbidden, invalid, unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { parseVersion, versionAtLeast } from '../shared/version.js';
import { toInt } from './normalize.js';
import type { CarveBeginBody, CarveBlockBody } from './schemas.js';

export interface CarveLimits {
  /** A carve's declared total size at most (bytes). */
  maxCarveBytes: number;
  /** A block's declared size at most (bytes): its base64 must fit one request body. */
  maxBlockBytes: number;
}

/** How long after a carve query was handed out its carve may begin (osquery archives, then uploads). */
export const CARVE_WINDOW_MS = 60 * 60_000;
/** SQL that can start a carve: the `carves` table (with `carve=1`) or the `carve()` function. */
const CARVE_SQL = /\bcarves?\b/i;

export interface CarveDeps {
  carves: Pick<CarveRepo, 'begin' | 'get' | 'addBlock' | 'ofHost'>;
  /** The live queries handed out to a host: a carve must answer one of them. */
  sentQueries: Pick<DistributedRepo, 'sentSince'>;
  /** A session's host, to tell whether its agent sends its node key with blocks. */
  hosts: Pick<HostRepo, 'get'>;
  carveLimits?: CarveLimits | undefined;
  clock: Clock;
  log: Logger;
}

function checkLimits(limits: CarveLimits | undefined, blockSize: number, carveSize: number): void {
  if (!limits) return;
  if (carveSize > limits.maxCarveBytes)
    throw new AppError('too_large', `carve_size ${carveSize} is above the limit of ${limits.maxCarveBytes} bytes`);
  if (blockSize > limits.maxBlockBytes)
    throw new AppError('too_large', `block_size ${blockSize} is above the limit of ${limits.maxBlockBytes} bytes`);
}

/** The carve GUIDs an answer lists as still to be uploaded (not yet done or failed). */
function scheduledGuids(rows: unknown[] | null): string[] {
  const out: string[] = [];
  for (const row of rows ?? []) {
    if (typeof row !== 'object' || row === null) continue;
    const { carve_guid: guid, status } = row as Record<string, unknown>;
    if (typeof guid !== 'string' || !guid) continue;
    if (typeof status === 'string' && (status === 'SUCCESS' || status.endsWith('FAILED'))) continue;
    out.push(guid);
  }
  return out;
}

/**
 * Why a carve beginning now was not asked for, or undefined when it was (pure). `sent`: the host's live
 * queries handed out within CARVE_WINDOW_MS; `begun`: its carves begun within it. A carve query's answer
 * lists the GUID of the carve it scheduled (osquery's `carve_guid`, sent back as `carve_id`): such a GUID
 * may begin. The carve can also start before that answer arrives, so while carve queries are unanswered,
 * each lets one carve begin that no answer lists.
 */
export function carveRefusal(sent: readonly SentQuery[], begun: readonly Carve[], carveId: string): string | undefined {
  const asked = sent.filter((q) => CARVE_SQL.test(q.sql));
  if (!asked.length) return 'no carve was asked of this host in the last hour (carves run from live queries only)';
  const listed = new Set(asked.flatMap((q) => scheduledGuids(q.rows)));
  if (listed.has(carveId)) return undefined;
  const unanswered = asked.filter((q) => q.completedAt === null).length;
  const unlisted = begun.filter((c) => !listed.has(c.carveId)).length;
  if (unlisted < unanswered) return undefined;
  return `carve ${carveId} is not one this host was asked for: its carve queries' answers do not list it`;
}

/** The same carve begun again (osquery retries a start whose answer was lost): its session, if unchanged. */
function sameCarve(begun: readonly Carve[], body: CarveBeginBody, sizes: Pick<Carve, 'blockCount' | 'carveSize'>) {
  const same = begun.find((c) => c.carveId === body.carve_id);
  if (!same) return undefined;
  const unchanged = same.blockCount === sizes.blockCount && same.carveSize === sizes.carveSize;
  if (!unchanged || same.blocksReceived > 0) throw conflict(`carve ${body.carve_id} has already begun`);
  return same.sessionId;
}

export async function beginCarve(deps: CarveDeps, host: Host, body: CarveBeginBody): Promise<{ sessionId: string }> {
  const blockCount = toInt(body.block_count, -1);
  const blockSize = toInt(body.block_size, -1);
  const carveSize = toInt(body.carve_size, -1);
  if (blockCount < 0 || blockSize <= 0 || carveSize < 0 || blockCount > 1_000_000)
    throw invalid('carve sizes must be non-negative integers (block_size > 0)');
  if (blockCount !== Math.ceil(carveSize / blockSize))
    throw invalid(`block_count ${blockCount} does not match ceil(carve_size / block_size)`);
  checkLimits(deps.carveLimits, blockSize, carveSize);
  const since = deps.clock.now() - CARVE_WINDOW_MS;
  const [sent, begun] = await Promise.all([
    deps.sentQueries.sentSince(host.id, 'live', since),
    deps.carves.ofHost(host.id, since),
  ]);
  const again = sameCarve(begun, body, { blockCount, carveSize });
  if (again) return { sessionId: again };
  const refusal = carveRefusal(sent, begun, body.carve_id);
  if (refusal) {
    deps.log.warn(
      { event: 'carve.refused', hostId: host.id, carveId: body.carve_id, reason: refusal },
      'carve refused',
    );
    throw forbidden(refusal);
  }
  const sessionId = randomId(16);
  await deps.carves.begin({
    sessionId,
    hostId: host.id,
    carveId: body.carve_id,
    requestId: body.request_id ?? '',
    blockCount,
    blockSize,
    carveSize,
    createdAt: deps.clock.now(),
  });
  deps.log.info(
    { event: 'carve.begin', hostId: host.id, carveId: body.carve_id, blockCount, carveSize },
    'carve started',
  );
  return { sessionId };
}

/** osquery 5.23 and later send the node key with every carve block (`Authorization: NodeKey`). */
export const sendsKeyWithBlocks = (osqueryVersion: string): boolean =>
  parseVersion(osqueryVersion) !== undefined && versionAtLeast(osqueryVersion, '5.23');

/**
 * Stores one block. `sender`: the host its node key authenticates, when the block carries one (osquery
 * 5.23+); it must be the host that began the session. A block without a key is taken on its session id
 * alone only when the session's host runs an osquery that sends none (before 5.23).
 */
export async function addCarveBlock(deps: CarveDeps, body: CarveBlockBody, sender?: Host): Promise<void> {
  const carve = await deps.carves.get(body.session_id);
  if (!carve) throw unauthenticated('unknown carve session');
  if (sender && sender.id !== carve.hostId) throw unauthenticated('unknown carve session');
  if (!sender && sendsKeyWithBlocks((await deps.hosts.get(carve.hostId))?.osqueryVersion ?? ''))
    throw unauthenticated('a block without its node key: this carve’s host (osquery 5.23+) sends it with every block');
  const blockId = toInt(body.block_id, -1);
  if (blockId < 0 || blockId >= carve.blockCount)
    throw invalid(`block_id ${String(body.block_id)} out of range 0..${carve.blockCount - 1}`);
  const data = Buffer.from(body.data, 'base64');
  if (data.length > carve.blockSize) throw invalid('block larger than block_size');
  const after = await deps.carves.addBlock(body.session_id, blockId, data, deps.clock.now());
  if (after.completedAt !== null && carve.completedAt === null)
    deps.log.info({ event: 'carve.complete', carveId: carve.carveId, sessionId: carve.sessionId }, 'carve complete');
}
