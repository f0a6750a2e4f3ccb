// Child processes of one bench run: each in its own process group, all killed on close(),
// on SIGINT/SIGTERM and on process exit, so a failed run leaves nothing behind.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

export class ProcessSet {
  #children = new Set();
  #closed = false;

  constructor() {
    this.onExit = () => this.killAllSync();
    process.on('exit', this.onExit);
  }

  /** Spawn a command in its own process group. Output goes to `log` (an array of lines kept short). */
  spawn(name, cmd, args, options = {}) {
    const child = spawn(cmd, args, { detached: true, stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    child.benchName = name;
    child.log = [];
    const keep = (chunk) => {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        child.log.push(line);
        if (child.log.length > 200) child.log.shift();
        if (options.onLine) options.onLine(line);
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.on('error', (err) => child.log.push(`spawn error: ${err.message}`));
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** Stop one child (SIGTERM to its group, SIGKILL after `graceMs`). */
  async stop(child, graceMs = 2000) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child.pid, 'SIGTERM');
    const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(t);
    // Grandchildren that ignored SIGTERM still belong to the group.
    killGroup(child.pid, 'SIGKILL');
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#children].map((c) => this.stop(c)));
    process.off('exit', this.onExit);
  }

  killAllSync() {
    for (const c of this.#children) killGroup(c.pid, 'SIGKILL');
  }
}

function killGroup(pid, signal) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Every process whose ancestry includes one of `roots` (roots included). */
export function processTree(roots) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) parent.set(Number(name), st.ppid);
  }
  const inTree = new Set(roots.filter((p) => parent.has(p)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!inTree.has(pid) && inTree.has(ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  return [...inTree];
}

function readStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
  } catch {
    return null;
  }
}

/**
 * CPU time of process trees between start() and stop(), as a percentage of one core.
 * Counts the CPU of processes that exited meanwhile through their parents' cutime/cstime.
 */
export class CpuMeter {
  #roots;
  #start = null;

  constructor(rootPids) {
    this.#roots = rootPids.filter(Boolean);
  }

  #snapshot() {
    const ticks = new Map();
    for (const pid of processTree(this.#roots)) {
      const st = readStat(pid);
      if (st) ticks.set(pid, st.utime + st.stime + st.cutime + st.cstime);
    }
    return { at: performance.now(), ticks };
  }

  start() {
    this.#start = this.#snapshot();
  }

  /** Percent of one core used since start(). */
  stop() {
    const end = this.#snapshot();
    let used = 0;
    for (const [pid, t] of end.ticks) used += t - (this.#start.ticks.get(pid) ?? 0);
    const seconds = (end.at - this.#start.at) / 1000;
    return seconds > 0 ? (100 * used) / CLK_TCK / seconds : 0;
  }
}
