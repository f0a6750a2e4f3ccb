/**
 * Test helper: "another program" on the X display, as a child process (xclientChild.mjs). Windows a
 * test makes with Painter belong to the test's own process, and X-Resource gives every connection of
 * one process the same PID, so the agent counts them as one program; windows made here do not.
 * Can open further connections (`open()`): one program's second X connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Rgb } from './painter.js';

export type ChildWindow = { overrideRedirect?: boolean; title?: string; transientFor?: number; type?: string; conn?: number };

export class XClientProcess {
  #proc: ChildProcess;
  #next = 1;
  #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(proc: ChildProcess) {
    this.#proc = proc;
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; result?: unknown; error?: string };
      const w = this.#waiting.get(msg.id);
      if (!w) return;
      this.#waiting.delete(msg.id);
      if (msg.error !== undefined) w.reject(new Error(msg.error));
      else w.resolve(msg.result);
    });
    proc.on('exit', () => {
      for (const w of this.#waiting.values()) w.reject(new Error('the X client process exited'));
      this.#waiting.clear();
    });
  }

  static async open(display: string): Promise<XClientProcess> {
    const script = fileURLToPath(new URL('./xclientChild.mjs', import.meta.url));
    const proc = spawn(process.execPath, [script, display], { stdio: ['pipe', 'pipe', 'inherit'] });
    const c = new XClientProcess(proc);
    await new Promise<void>((resolve, reject) => c.#waiting.set(0, { resolve: () => resolve(), reject }));
    return c;
  }

  get pid(): number {
    return this.#proc.pid ?? 0;
  }

  #call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#proc.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /** Another X connection of this process: its index, for `conn`. */
  openConnection(): Promise<number> {
    return this.#call('open');
  }

  /** A mapped window filled with one colour; override-redirect unless `opts` says otherwise (as Painter.window). */
  window(x: number, y: number, w: number, h: number, colour: Rgb, opts: ChildWindow = { overrideRedirect: true }): Promise<number> {
    return this.#call('window', { x, y, w, h, rgb: colour, ...opts });
  }

  putRgb(wid: number, x: number, y: number, w: number, h: number, rgb: Uint8Array, conn = 0): Promise<void> {
    return this.#call('putRgb', { wid, x, y, w, h, rgb: Buffer.from(rgb).toString('base64'), conn });
  }

  move(wid: number, x: number, y: number, conn = 0): Promise<void> {
    return this.#call('move', { wid, x, y, conn });
  }

  destroy(wid: number, conn = 0): Promise<void> {
    return this.#call('destroy', { wid, conn });
  }

  /** ButtonPress events its windows got since the last call (window-relative x, y). */
  presses(): Promise<Array<{ wid: number; x: number; y: number }>> {
    return this.#call('presses');
  }

  /** KeyPress events its windows got since the last call (the window that had the focus). */
  keys(): Promise<Array<{ wid: number; keycode: number }>> {
    return this.#call('keys');
  }

  async close(): Promise<void> {
    if (this.#proc.exitCode !== null) return;
    const exited = new Promise((r) => this.#proc.once('exit', r));
    this.#proc.stdin!.end();
    await exited;
  }
}
