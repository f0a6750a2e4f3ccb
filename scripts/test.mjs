#!/usr/bin/env node
// `npm test`: installs what the tests need from Debian, checks the services, builds, runs Vitest.
// Under CI=true a missing service or package is a failure; elsewhere it is skipped, loudly.
import { spawnSync } from 'node:child_process';
import net from 'node:net';

const ci = process.env.CI === 'true';
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status ?? 1;

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

const problems = [];
if (run('bash', ['scripts/system-deps.sh']) !== 0) problems.push('Debian packages (xvfb, chromium, X clients): browser and agent tests will skip');
const pgUrl = new URL(process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
if (!(await reachable(pgUrl.hostname, Number(pgUrl.port || 5432)))) problems.push(`PostgreSQL at ${pgUrl.host}: the PostgreSQL half of the store suite will skip`);

if (problems.length) {
  const banner = ['', '!'.repeat(78), ...problems.map((p) => `!! MISSING: ${p}`), '!'.repeat(78), ''].join('\n');
  console.error(banner);
  if (ci) {
    console.error('CI=true: missing services are failures.');
    process.exit(1);
  }
}

if (run('npm', ['run', 'build', '--silent']) !== 0) process.exit(1);
const status = run('npx', ['vitest', 'run', ...process.argv.slice(2)]);
if (problems.length) console.error(`\nNOTE: some tests were skipped because of: ${problems.join('; ')}`);
process.exit(status);
