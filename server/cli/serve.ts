/** `trustgate serve`: runs the server until SIGINT/SIGTERM, then shuts down cleanly. */
import type { Config } from '../config/load.js';
import { startServer } from '../main.js';

export async function serve(config: Readonly<Config>): Promise<number> {
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.stop();
  return 0;
}
