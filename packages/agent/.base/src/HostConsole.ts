/**
 * The host's keys on the agent's terminal: switch what is shared, pause, show the state. It owns
 * standard input and hands the consent prompt its answers (`consentInput`) while a question is asked.
 *
 * On a terminal (TTY) single keys work, no Enter needed: `s` lists the sources and a number picks one
 * (Enter after it when there are ten or more), `p` pauses and resumes, `i` prints the state line,
 * `h` or `?` the keys; Ctrl-C stops as before. A consent question is answered as before (y, Enter).
 *
 * Not on a terminal (a pipe: scripts and tests), the same as lines: `s`/`sources`, `<n>` or
 * `s <n>` (the n-th source of the list), `source <id>` (an id such as `monitor:DP-1`, `window:0x…`,
 * `screen`), `p`/`pause`, `r`/`resume`, `i`/`state`. While a consent question is open, the next line
 * is its answer.
 */
import { createInterface } from 'node:readline';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { printable, type ShareSource } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';

export type HostConsoleCommands = {
  /** The sources, newest first listed again. */
  sources(): Promise<ShareSource[]>;
  /** The id of what is shared now. */
  current(): string;
  switchTo(id: string): Promise<void>;
  paused(): boolean;
  setPaused(on: boolean): void;
  state(): string;
};

export type HostConsoleOptions = {
  commands: HostConsoleCommands;
  /** Whether a consent question waits for its answer (ConsentPrompt.asking). */
  asking: () => boolean;
  input?: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  output?: Writable;
};

export type HostConsoleEvents = {
  /** Ctrl-C in raw mode (the terminal sends no SIGINT then). */
  interrupt: [];
  error: [Error];
};

export const HOST_KEYS_HELP = 'Keys: s = switch what is shared, p = pause/resume, i = state, h = help, Ctrl-C = stop.';

export class HostConsole extends TypedEmitter<HostConsoleEvents> {
  /** What the consent prompt reads: the lines typed while it asks. */
  readonly consentInput = new PassThrough();
  #o: HostConsoleOptions;
  #in: NonNullable<HostConsoleOptions['input']>;
  #out: Writable;
  #listed: ShareSource[] = [];
  /** Raw mode: a source number being typed after `s` (null: not in the menu). */
  #menu: string | null = null;
  /** Raw mode: the consent answer being typed. */
  #answer = '';
  #raw = false;
  #started = false;
  #closed = false;
  #onData = (chunk: Buffer | string): void => this.#keys(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  #onEnd = (): void => void this.consentInput.end();

  constructor(options: HostConsoleOptions) {
    super();
    this.#o = options;
    this.#in = options.input ?? process.stdin;
    this.#out = options.output ?? process.stderr;
  }

  get raw(): boolean {
    return this.#raw;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#in.on('end', this.#onEnd);
    if (this.#in.isTTY && this.#in.setRawMode) {
      this.#raw = true;
      this.#in.setRawMode(true);
      this.#in.on('data', this.#onData);
      this.#in.resume();
      this.#print(HOST_KEYS_HELP);
      return;
    }
    const rl = createInterface({ input: this.#in, terminal: false });
    rl.on('line', (line) => void this.#line(line));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#in.off('data', this.#onData);
    this.#in.off('end', this.#onEnd);
    if (this.#raw) this.#in.setRawMode?.(false);
    this.#in.pause();
    this.consentInput.end();
    this.removeAllListeners();
  }

  #print(line: string): void {
    this.#out.write(`${line}\n`);
  }

  /** One line of the pipe protocol. */
  async #line(line: string): Promise<void> {
    if (this.#closed) return;
    if (this.#o.asking()) return void this.consentInput.write(`${line}\n`);
    const t = line.trim();
    const [cmd = '', arg] = t.split(/\s+/, 2);
    try {
      if (/^\d+$/.test(cmd)) return await this.#pick(Number(cmd));
      switch (cmd.toLowerCase()) {
        case 's':
        case 'sources':
          return arg !== undefined && /^\d+$/.test(arg) ? await this.#pick(Number(arg)) : await this.#list();
        case 'source':
          if (arg === undefined) return await this.#list();
          return /^\d+$/.test(arg) ? await this.#pick(Number(arg)) : await this.#o.commands.switchTo(arg);
        case 'p':
        case 'pause':
          return this.#o.commands.setPaused(cmd.toLowerCase() === 'pause' ? true : !this.#o.commands.paused());
        case 'r':
        case 'resume':
          return this.#o.commands.setPaused(false);
        case 'i':
        case 'state':
          return this.#print(`State: ${this.#o.commands.state()}`);
        case '':
          return;
        default:
          return this.#print(`Unknown command '${printable(cmd)}'. Commands: s (sources), <n> (share source n), source <id>, p (pause/resume), r (resume), i (state).`);
      }
    } catch (err) {
      this.#print(`Cannot do that: ${printable((err as Error).message)}`);
    }
  }

  async #list(): Promise<void> {
    this.#listed = await this.#o.commands.sources();
    const current = this.#o.commands.current();
    this.#print('What to share:');
    this.#listed.forEach((s, i) => this.#print(`  ${i}: ${s.id === current ? '* ' : ''}${describeSource(s)}`));
  }

  async #pick(n: number): Promise<void> {
    if (this.#listed.length === 0) this.#listed = await this.#o.commands.sources();
    const s = this.#listed[n];
    if (!s) return this.#print(`No source ${n}: press s for the list.`);
    await this.#o.commands.switchTo(s.id);
  }

  /** Raw-mode keystrokes. */
  #keys(text: string): void {
    for (const ch of text) {
      if (this.#closed) return;
      if (ch === '\x03') {
        this.emit('interrupt');
        continue;
      }
      if (this.#o.asking()) {
        this.#answerKey(ch);
        continue;
      }
      this.#answer = '';
      if (this.#menu !== null) {
        this.#menuKey(ch);
        continue;
      }
      switch (ch.toLowerCase()) {
        case 's':
          this.#menu = '';
          void this.#list().then(
            () => this.#menu !== null && this.#print(this.#listed.length > 10 ? 'Type its number and Enter (Esc: cancel).' : 'Press its number (Esc: cancel).'),
            (err: Error) => {
              this.#menu = null;
              this.#print(`Cannot list the sources: ${printable(err.message)}`);
            },
          );
          break;
        case 'p':
          this.#o.commands.setPaused(!this.#o.commands.paused());
          break;
        case 'i':
          this.#print(`State: ${this.#o.commands.state()}`);
          break;
        case 'h':
        case '?':
          this.#print(HOST_KEYS_HELP);
          break;
        default:
          break;
      }
    }
  }

  #menuKey(ch: string): void {
    if (ch === '\x1b') {
      this.#menu = null;
      return this.#print('(cancelled)');
    }
    if (/\d/.test(ch)) {
      this.#menu += ch;
      this.#out.write(ch);
      if (this.#listed.length <= 10) return this.#choose();
      return;
    }
    if (ch === '\r' || ch === '\n') return this.#choose();
    if (ch === '\x7f' || ch === '\b') this.#menu = (this.#menu ?? '').slice(0, -1);
  }

  #choose(): void {
    const typed = this.#menu ?? '';
    this.#menu = null;
    this.#out.write('\n');
    if (typed === '') return;
    this.#pick(Number(typed)).catch((err: Error) => this.#print(`Cannot switch: ${printable(err.message)}`));
  }

  /** Raw mode while a consent question is open: a line with echo, handed to the prompt on Enter. */
  #answerKey(ch: string): void {
    if (ch === '\r' || ch === '\n') {
      this.#out.write('\n');
      this.consentInput.write(`${this.#answer}\n`);
      this.#answer = '';
    } else if (ch === '\x7f' || ch === '\b') {
      if (this.#answer.length > 0) {
        this.#answer = this.#answer.slice(0, -1);
        this.#out.write('\b \b');
      }
    } else if (ch >= ' ' && this.#answer.length < 16) {
      this.#answer += ch;
      this.#out.write(ch);
    }
  }
}

export function describeSource(s: ShareSource): string {
  const what = s.kind === 'screen' ? 'the whole screen' : s.kind === 'monitor' ? `monitor ${s.label}` : `window ${s.label}`;
  return `${what} ${s.width}x${s.height} [${s.id}]`;
}
