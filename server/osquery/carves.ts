/**
 * File carves (POST /api/v1/osquery/carve/begin and carve/block): a session is opened with sizes that
 * must agree and stay within the configured caps (TRUSTGATE_CARVE_MAX_BYTES; a block within the body
 * limit), blocks are stored as they arrive (any order, duplicates ignored). A block is authenticated by
 * its session id (osquery before 5.23 sends nothing else; the id is shown to admins only) and, when it
 * carries a node key (5.23+), by that key too, which must be the key of the host that began the session.
 * The finished archive is served by the admin API, streamed block by block.
 */
import type { CarveRepo } from '../domain/ports.js';
import type { Host } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { AppError, invalid, unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { toInt } from './normalize.js';
import type { CarveBeginBody, CarveBlockBody } from './schemas.js';

export interface CarveLimits {
  /** A carve's declared total size at most (bytes). */
  maxCarveBytes: number;
  /** A block's declared size at most (bytes): its base64 must fit one request body. */
  maxBlockBytes: number;
}

export interface CarveDeps {
  carves: Pick<CarveRepo, 'begin' | 'get' | 'addBlock'>;
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

export async function beginCarve(deps: CarveDeps, host: Host, body: CarveBeginBody): Promise<{ sessionId: string }> {
  const blockCount = toInt(body.block_count, -1);
  const blockSize = toInt(body.block_size, -1);
  const carveSize = toInt(body.carve_size, -1);
  if (blockCount < 0 || blockSize <= 0 || carveSize < 0 || blockCount > 1_000_000)
    throw invalid('carve sizes must be non-negative integers (block_size > 0)');
  if (blockCount !== Math.ceil(carveSize / blockSize))
    throw invalid(`block_count ${blockCount} does not match ceil(carve_size / block_size)`);
  checkLimits(deps.carveLimits, blockSize, carveSize);
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

/**
 * Stores one block. `sender`: the host its node key authenticates, when the block carries one (osquery
 * 5.23+); it must be the host that began the session.
 */
export async function addCarveBlock(deps: CarveDeps, body: CarveBlockBody, sender?: Host): Promise<void> {
  const carve = await deps.carves.get(body.session_id);
  if (!carve) throw unauthenticated('unknown carve session');
  if (sender && sender.id !== carve.hostId) throw unauthenticated('unknown carve session');
  const blockId = toInt(body.block_id, -1);
  if (blockId < 0 || blockId >= carve.blockCount)
    throw invalid(`block_id ${String(body.block_id)} out of range 0..${carve.blockCount - 1}`);
  const data = Buffer.from(body.data, 'base64');
  if (data.length > carve.blockSize) throw invalid('block larger than block_size');
  const after = await deps.carves.addBlock(body.session_id, blockId, data, deps.clock.now());
  if (after.completedAt !== null && carve.completedAt === null)
    deps.log.info({ event: 'carve.complete', carveId: carve.carveId, sessionId: carve.sessionId }, 'carve complete');
}
