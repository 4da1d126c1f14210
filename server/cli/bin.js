#!/usr/bin/env node
// The `trustgate` command: loads the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly: the command is finished (serve has shut down cleanly), and helper handles such as
// the TypeScript loader's compiler service must not keep the process alive.
process.exit(code);
