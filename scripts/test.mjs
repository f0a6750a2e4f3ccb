#!/usr/bin/env node
// `npm test`: installs what the tests need from Debian, checks the services, builds, runs Vitest.
// Under CI=true a missing service or package is a failure; elsewhere it is skipped, loudly.
import { spawnSync } from 'node:child_process';
import net from 'node:net';

const ci = process.env.CI === 'true';
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status ?? 1;
const started = Date.now();
// Each step says what it does first: some take minutes and print nothing meanwhile.
const step = (n, text) => console.error(`\n== baton test [${n}/4] ${text} (${Math.round((Date.now() - started) / 1000)} s so far)`);

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

const problems = [];
step(1, 'Debian packages: Xvfb, Chromium, X clients, coturn, Janus (installed with apt-get when missing and running as root)');
if (run('bash', ['scripts/system-deps.sh']) !== 0) problems.push('Debian packages (xvfb, chromium, X clients): browser and agent tests will skip');
step(2, 'services: PostgreSQL, NATS (JetStream)');
const pgUrl = new URL(process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
if (!(await reachable(pgUrl.hostname, Number(pgUrl.port || 5432)))) problems.push(`PostgreSQL at ${pgUrl.host}: the PostgreSQL half of the store suite and the cluster tests will skip`);
const natsUrl = new URL((process.env.BATON_TEST_NATS_URL ?? 'nats://127.0.0.1:4222').replace(/^nats:/, 'http:'));
if (!(await reachable(natsUrl.hostname, Number(natsUrl.port || 4222)))) problems.push(`NATS at ${natsUrl.host}: the cluster tests will skip (nats-server -js)`);

if (problems.length) {
  const banner = ['', '!'.repeat(78), ...problems.map((p) => `!! MISSING: ${p}`), '!'.repeat(78), ''].join('\n');
  console.error(banner);
  if (ci) {
    console.error('CI=true: missing services are failures.');
    process.exit(1);
  }
}

step(3, 'build: TypeScript packages and the web client (npm run build)');
if (run('npm', ['run', 'build', '--silent']) !== 0) process.exit(1);
const args = process.argv.slice(2);
// The verbose reporter names every test file and test as it finishes; e2e files take minutes.
const reporter = args.some((a) => a.startsWith('--reporter')) ? [] : ['--reporter=verbose'];
step(4, `tests: vitest run ${[...reporter, ...args].join(' ')}`.trimEnd());
const status = run('npx', ['vitest', 'run', ...reporter, ...args]);
if (problems.length) console.error(`\nNOTE: some tests were skipped because of: ${problems.join('; ')}`);
process.exit(status);
