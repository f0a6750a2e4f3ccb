/** Runs the real host agent CLI against a test server and waits until it shares. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { api } from '../../packages/server/test/support.js';
import { ROOT } from './browser.js';

export interface AgentRun {
  proc: ChildProcess;
  /** Everything the agent printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `baton-agent share` with a fresh one-time token of `cookie`'s user, on `display`; `baseUrl` makes it
 * reach the server some other way (through a proxy); `extraArgs` go on the command line as they are;
 * `stdin: 'pipe'` keeps the agent's standard input open for its host commands (proc.stdin).
 * `indicator: true` starts the agent with its on-top indicator window (`--indicator`; off by default).
 */
export async function startAgentShare(srv: BatonServer, conf: string, cookie: string, display: string, allowControl = 'signed-in', baseUrl = srv.url, extraArgs: string[] = [], opts: { stdin?: 'pipe' | 'ignore'; indicator?: boolean } = {}): Promise<AgentRun> {
  const token = (await api(srv.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, cookie)).body.token as string;
  const args = [...extraArgs, ...(opts.indicator ? ['--indicator'] : [])];
  const proc = spawn(process.execPath, [path.join(ROOT, 'packages/agent/dist/cli.js'), 'share', `${baseUrl}/m/${conf}`, '--token', token, '--allow-control', allowControl, ...args], {
    env: { ...process.env, DISPLAY: display },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const sharing = async () => (await srv.registry.get(conf))?.snapshot().share?.kind === 'agent';
  // A bounded poll by the clock, not by a count of sleeps: on a loaded 2-core machine the agent alone
  // takes seconds to load its native modules (5 s for --help at a load average of 20).
  for (const end = Date.now() + 45_000; Date.now() < end && !(await sharing()); ) await sleep(100);
  if (!(await sharing())) {
    proc.kill('SIGKILL');
    throw new Error(`the agent did not start sharing:\n${out}`);
  }
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      // Ctrl-C: the agent ends its share and exits; killed only if it has not within 5 s.
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGINT');
      if ((await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) === false) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}
