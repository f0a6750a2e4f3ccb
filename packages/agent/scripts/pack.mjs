#!/usr/bin/env node
// Packs the built agent into dist-pack/baton-agent.tgz, the file the server offers at
// /agent/baton-agent.tgz, plus its SHA-256. The tarball must install on a host that has only
// Node.js and npm: @baton/protocol is a workspace package that is not on the registry, so it goes
// inside the tarball as a bundled dependency; everything else (x11, sharp, node-datachannel, ws,
// zod) comes from the npm registry with prebuilt binaries.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const agentDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const protocolDir = path.resolve(agentDir, '../protocol');
const outDir = path.join(agentDir, 'dist-pack');
const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

for (const d of [agentDir, protocolDir]) {
  if (!existsSync(path.join(d, 'dist/index.js'))) throw new Error(`${d}/dist is missing: build first (tsc -b)`);
}
const agent = readJson(path.join(agentDir, 'package.json'));
const protocol = readJson(path.join(protocolDir, 'package.json'));
const stage = mkdtempSync(path.join(tmpdir(), 'baton-agent-pack-'));
try {
  // Only the compiled code, without tests and build bookkeeping.
  const copyDist = (from, to) => cpSync(from, to, { recursive: true, filter: (src) => !/\.test\.(js|d\.ts)(\.map)?$|\.tsbuildinfo$/.test(src) });
  copyDist(path.join(agentDir, 'dist'), path.join(stage, 'dist'));
  cpSync(path.join(agentDir, 'bin'), path.join(stage, 'bin'), { recursive: true });
  if (existsSync(path.join(agentDir, 'README.md'))) cpSync(path.join(agentDir, 'README.md'), path.join(stage, 'README.md'));
  const bundled = path.join(stage, 'node_modules/@baton/protocol');
  copyDist(path.join(protocolDir, 'dist'), path.join(bundled, 'dist'));
  // The bundled copy declares no dependencies of its own: its one (zod) is the agent's too and
  // resolves from the agent's node_modules, so npm has nothing to fetch for it.
  writeFileSync(path.join(bundled, 'package.json'), JSON.stringify({ name: protocol.name, version: protocol.version, type: 'module', main: protocol.main, types: protocol.types, exports: protocol.exports }, null, 2));
  const { '@baton/protocol': _own, ...registryDeps } = agent.dependencies;
  writeFileSync(
    path.join(stage, 'package.json'),
    JSON.stringify(
      {
        name: 'baton-agent',
        version: agent.version,
        description: 'Baton host agent: shares this X11 desktop in a Baton meeting, with remote control',
        license: 'MIT',
        type: 'module',
        engines: { node: '>=20' },
        bin: { 'baton-agent': 'bin/baton-agent.js' },
        main: agent.main,
        exports: agent.exports,
        files: ['bin', 'dist', 'README.md'],
        dependencies: { ...registryDeps, '@baton/protocol': protocol.version },
        // koffi maps the MIT-SHM segment (zero-copy capture, decision 0009); optional: without it the agent
        // reads the segment with node-x11's own provider. (node-av, ~100 MB, stays out of the tarball.)
        optionalDependencies: { koffi: agent.optionalDependencies.koffi },
        bundleDependencies: ['@baton/protocol'],
      },
      null,
      2,
    ),
  );
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', stage], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const file = JSON.parse(json)[0].filename;
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) rmSync(path.join(outDir, f));
  renameSync(path.join(stage, file), path.join(outDir, 'baton-agent.tgz'));
  const sha = createHash('sha256').update(readFileSync(path.join(outDir, 'baton-agent.tgz'))).digest('hex');
  writeFileSync(path.join(outDir, 'baton-agent.tgz.sha256'), `${sha}  baton-agent.tgz\n`);
  process.stdout.write(`agent packed: ${path.relative(process.cwd(), path.join(outDir, 'baton-agent.tgz'))} sha256 ${sha}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
