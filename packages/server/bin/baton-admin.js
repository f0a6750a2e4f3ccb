#!/usr/bin/env node
// The baton-admin command. This file is committed (dist/ is not) so that `npm install` links the
// bin before anything is built; it runs the compiled CLI, or says how to build it.
import { existsSync } from 'node:fs';

const admin = new URL('../dist/admin.js', import.meta.url);
if (!existsSync(admin)) {
  process.stderr.write('baton-admin: Baton is not built yet: run "npm run build" (or "npm start") in the Baton directory first.\n');
  process.exit(1);
}
const { adminMain } = await import(admin.href);
await adminMain(process.argv.slice(2));
