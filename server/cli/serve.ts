/** `trustgate serve`: runs the server until SIGINT/SIGTERM, then shuts down cleanly (and logs it). */
import type { Config } from '../config/load.js';
import { startServer } from '../main.js';

export async function serve(config: Readonly<Config>): Promise<number> {
  const server = await startServer(config);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop(signal);
  return 0;
}
