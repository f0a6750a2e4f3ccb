/**
 * The built server in a child process, for tests that measure it from outside (its RSS is its own):
 * builds the server package first when its output is older than the source, starts
 * `dist/cli.js` on a free loopback port with a fresh data directory and no BATON_* settings of the
 * caller's environment, and stops it (SIGTERM, waiting for the exit) and removes the directory.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(dirname(pkgDir));
const cli = join(pkgDir, 'dist', 'cli.js');

/** Source files whose compiled output is missing or older than the source (tests excluded). */
function staleOutputs(dir = join(pkgDir, 'src'), rel = ''): string[] {
  const stale: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = join(rel, e.name);
    if (e.isDirectory()) stale.push(...staleOutputs(join(dir, e.name), r));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
      const out = join(pkgDir, 'dist', r.replace(/\.ts$/, '.js'));
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(dir, e.name)).mtimeMs) stale.push(r);
    }
  }
  return stale;
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** The server's resident set size now, in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

export async function startServerProcess(tmpPrefix: string): Promise<ServerProcess> {
  if (staleOutputs().length) {
    try {
      execFileSync('npx', ['tsc', '-b', 'packages/server'], { cwd: repoRoot, stdio: 'pipe', timeout: 180_000 });
    } catch (err) {
      // A type error elsewhere still emits JavaScript; judge by the result.
      const stale = staleOutputs();
      if (stale.length) throw new Error(`could not build ${stale.join(', ')}: ${(err as { stdout?: Buffer }).stdout?.toString() ?? err}`);
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), tmpPrefix));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BATON_')) delete env[k];
  const proc = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return {
    url,
    proc,
    rssMiB() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
