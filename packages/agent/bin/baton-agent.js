#!/usr/bin/env node
// The baton-agent command. This file is committed (dist/ is not) so that `npm install` links the
// bin before anything is built; it runs the compiled CLI, or says how to build it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('baton-agent: Baton is not built yet: run "npm run build" (or "npm start") in the Baton directory first.\n');
  process.exit(1);
}
const { run } = await import(cli.href);
run(process.argv.slice(2));
