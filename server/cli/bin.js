#!/usr/bin/env node
// The `trustgate` command: loads the TypeScript CLI through tsx (no build step).
import v8 from 'node:v8';
import { register } from 'tsx/esm/api';

// No allocation-site pretenuring (README, "Quick start"): after request storms V8 kept allocating the HTTP
// path's objects in the old generation, so each request's garbage needed a major collection and the
// gateway's p99 at 2,000 decisions/s went from ~2 ms to 5-9 ms. Set before anything is loaded; Node does
// not accept this flag in NODE_OPTIONS, so the command sets it for every way the server is launched.
v8.setFlagsFromString('--no-allocation-site-pretenuring');

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly: the command is finished (serve has shut down cleanly), and helper handles such as
// the TypeScript loader's compiler service must not keep the process alive.
process.exit(code);
