/**
 * File carves (POST /api/v1/osquery/carve/begin and carve/block): a session is opened with sizes that
 * must agree, blocks are stored as they arrive (any order, duplicates ignored), and a block is
 * authenticated by its session id. The finished archive is served by the admin API.
 */
import type { CarveRepo } from '../domain/ports.js';
import type { Host } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { invalid, unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { toInt } from './normalize.js';
import type { CarveBeginBody, CarveBlockBody } from './schemas.js';

export interface CarveDeps {
  carves: Pick<CarveRepo, 'begin' | 'get' | 'addBlock'>;
  clock: Clock;
  log: Logger;
}

export async function beginCarve(deps: CarveDeps, host: Host, body: CarveBeginBody): Promise<{ sessionId: string }> {
  const blockCount = toInt(body.block_count, -1);
  const blockSize = toInt(body.block_size, -1);
  const carveSize = toInt(body.carve_size, -1);
  if (blockCount < 0 || blockSize <= 0 || carveSize < 0 || blockCount > 1_000_000)
    throw invalid('carve sizes must be non-negative integers (block_size > 0)');
  if (blockCount !== Math.ceil(carveSize / blockSize))
    throw invalid(`block_count ${blockCount} does not match ceil(carve_size / block_size)`);
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

export async function addCarveBlock(deps: CarveDeps, body: CarveBlockBody): Promise<void> {
  const carve = await deps.carves.get(body.session_id);
  if (!carve) throw unauthenticated('unknown carve session');
  const blockId = toInt(body.block_id, -1);
  if (blockId < 0 || blockId >= carve.blockCount)
    throw invalid(`block_id ${String(body.block_id)} out of range 0..${carve.blockCount - 1}`);
  const data = Buffer.from(body.data, 'base64');
  if (data.length > carve.blockSize) throw invalid('block larger than block_size');
  const after = await deps.carves.addBlock(body.session_id, blockId, data, deps.clock.now());
  if (after.completedAt !== null && carve.completedAt === null)
    deps.log.info({ event: 'carve.complete', carveId: carve.carveId, sessionId: carve.sessionId }, 'carve complete');
}
