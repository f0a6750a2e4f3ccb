/**
 * Runs an untrusted-input tool (LibreOffice on an uploaded presentation, pdf.js on an uploaded PDF)
 * as a child process that cannot hurt the server: its own process group, killed whole when the time
 * is up (LibreOffice forks `soffice.bin`, so killing the parent alone would leave it running); no
 * network when we can take it away (`unshare -n`, which needs root or user namespaces: probed once);
 * an empty environment but for what it needs; its output collected up to a limit. The caller gives it
 * a throwaway working directory and removes that afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { BatonError } from '../errors.js';

export class SandboxError extends BatonError {
  override name = 'SandboxError';
  constructor(message: string, readonly reason: 'timeout' | 'exit' | 'spawn' | 'output') {
    super('bad_request', message);
  }
}

export interface SandboxRun {
  command: string;
  args: string[];
  cwd: string;
  /** Killed (the whole process group) after this long. */
  timeoutMs: number;
  /** Environment beyond PATH and LANG (HOME points at cwd). */
  env?: Record<string, string>;
  /** stdout kept at most (the rest is dropped and the run fails). Default 1 MiB. */
  maxStdoutBytes?: number;
  /** Without network (default true): `unshare -n` when available. */
  noNetwork?: boolean;
}

export interface SandboxResult {
  stdout: string;
  stderr: string;
  ms: number;
  /** The run had no network (unshare worked), as opposed to "not available on this system". */
  isolated: boolean;
}

/** How to drop the network here: `-n` as root, `-rn` with unprivileged user namespaces, or not at all. Probed once. */
let unshareFlag: string | null | undefined;
export function networkIsolation(): string | null {
  if (unshareFlag === undefined) {
    unshareFlag = null;
    for (const flag of ['-n', '-rn']) {
      if (spawnSync('unshare', [flag, 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0) {
        unshareFlag = flag;
        break;
      }
    }
  }
  return unshareFlag;
}

export function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const flag = run.noNetwork === false ? null : networkIsolation();
  const isolated = flag !== null;
  const [cmd, args] = flag ? ['unshare', [flag, '--', run.command, ...run.args]] : [run.command, run.args];
  const maxOut = run.maxStdoutBytes ?? 1 << 20;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: run.cwd,
      detached: true, // its own process group, so the timeout kills everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: run.cwd, ...run.env },
    });
    let stdout = '';
    let stderr = '';
    let failure: SandboxError | null = null;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      failure ??= new SandboxError(`took longer than ${Math.round(run.timeoutMs / 1000)} s and was stopped`, 'timeout');
      killGroup();
    }, run.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length + s.length > maxOut) {
        failure ??= new SandboxError('produced more output than allowed', 'output');
        killGroup();
      } else stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 8192) stderr += s.slice(0, 8192 - stderr.length);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new SandboxError(`could not start ${run.command}: ${err.message}`, 'spawn'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // anything it left behind in its group
      if (failure) return reject(failure);
      if (code !== 0) return reject(new SandboxError(`${run.command} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300)}`, 'exit'));
      resolve({ stdout, stderr, ms: Date.now() - started, isolated });
    });
  });
}
