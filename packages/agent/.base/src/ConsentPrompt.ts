/**
 * The host's consent to being controlled. The decision is taken here, on the host's own terminal,
 * never by the server or a web page (Jitsi had to disable remote control because its consent dialog
 * was web code served by the server):
 *   ask        prompt on the agent's terminal; the answer is remembered per participant for the session
 *   never      deny everyone
 *   signed-in  allow signed-in participants without asking, deny guests
 *
 * The question shows the account the server authenticated (or "guest") on a line of its own, before
 * and apart from the display name, which the participant chose and which is printed escaped and
 * quoted on the line after: no name can draw a second account line or rewrite the terminal.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { printable } from '@baton/protocol';

export const CONTROL_MODES = ['ask', 'never', 'signed-in'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];

export type ControlRequest = { participantId: string; name: string; user: string | null };

export type ConsentPromptOptions = {
  mode: ControlMode;
  /** Where answers are read (the terminal); stdin by default. */
  input?: Readable;
  /** Where questions are written; stderr by default, so stdout stays clean for scripts. */
  output?: Writable;
  /** Unanswered questions are denied after this long. */
  timeoutMs?: number;
};

const WITHDRAWN = Symbol('withdrawn');

export class ConsentPrompt {
  readonly mode: ControlMode;
  #input: Readable;
  #output: Writable;
  #timeoutMs: number;
  #rl: Interface | null = null;
  #inputEnded = false;
  #remembered = new Map<string, boolean>();
  #pending = new Map<string, Promise<boolean>>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Pending requests withdrawn before their question was asked: never asked. */
  #withdrawn = new Set<string>();
  /** The question on screen now, and how to end it unanswered. */
  #active: { participantId: string; abort(): void } | null = null;

  constructor(options: ConsentPromptOptions) {
    this.mode = options.mode;
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stderr;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Whether this participant may take control. Concurrent requests are asked one after another. */
  decide(req: ControlRequest): Promise<boolean> {
    if (this.#closed || this.mode === 'never') return Promise.resolve(false);
    if (this.mode === 'signed-in') return Promise.resolve(req.user !== null);
    const known = this.#remembered.get(req.participantId);
    if (known !== undefined) return Promise.resolve(known);
    const pending = this.#pending.get(req.participantId);
    if (pending) return pending;
    this.#withdrawn.delete(req.participantId);
    const p = this.#queue.then(() => this.#ask(req));
    this.#queue = p.catch(() => undefined);
    this.#pending.set(req.participantId, p);
    void p.finally(() => this.#pending.delete(req.participantId));
    return p;
  }

  /** Forget a participant's answer (e.g. when they leave). */
  forget(participantId: string): void {
    this.#remembered.delete(participantId);
  }

  /**
   * The requester withdrew (cancelled in the meeting, or left): its question, on screen or queued,
   * ends as a denial and nothing is remembered, so a late "yes" cannot stand for a later request.
   */
  withdraw(participantId: string): void {
    if (!this.#pending.has(participantId)) return;
    if (this.#active?.participantId === participantId) this.#active.abort();
    else this.#withdrawn.add(participantId);
  }

  /** A question is on screen, waiting for its answer. */
  get asking(): boolean {
    return this.#active !== null;
  }

  /** The participants whose request is waiting for an answer here. */
  pendingIds(): string[] {
    return [...this.#pending.keys()];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rl?.close();
    this.#rl = null;
  }

  async #ask(req: ControlRequest): Promise<boolean> {
    const again = this.#remembered.get(req.participantId);
    if (again !== undefined) return again;
    if (this.#closed || this.#inputEnded || this.#withdrawn.delete(req.participantId)) return false;
    const answer = await this.#question(`\n${describeRequester(req)}\n${req.user === null ? 'Allow this guest' : `Allow account ${printable(req.user)}`} to control your screen? [y/N] `, req.participantId);
    if (answer === WITHDRAWN) {
      this.#output.write(`\n${requesterShort(req)} withdrew the request: nothing to answer.\n`);
      return false;
    }
    if (answer === null) {
      this.#output.write(`\nNo answer: ${requesterShort(req)} was not given control.\n`);
      return false;
    }
    const allowed = /^\s*y(es)?\s*$/i.test(answer);
    if (!this.#closed) this.#remembered.set(req.participantId, allowed);
    return allowed;
  }

  /** One line from the input; null on timeout, end of input or close; WITHDRAWN when withdrawn. */
  #question(text: string, participantId: string): Promise<string | null | typeof WITHDRAWN> {
    const rl = this.#readline();
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: string | null | typeof WITHDRAWN): void => {
        if (done) return;
        done = true;
        this.#active = null;
        clearTimeout(timer);
        rl.off('line', onLine);
        rl.off('close', onClose);
        resolve(v);
      };
      const onLine = (line: string): void => finish(line);
      const onClose = (): void => finish(null);
      const timer = setTimeout(() => finish(null), this.#timeoutMs);
      rl.on('line', onLine);
      rl.on('close', onClose);
      this.#active = { participantId, abort: () => finish(WITHDRAWN) };
      this.#output.write(text);
    });
  }

  #readline(): Interface {
    if (!this.#rl) {
      // terminal: false keeps the TTY in cooked mode, so Ctrl-C still reaches the process as SIGINT.
      this.#rl = createInterface({ input: this.#input, terminal: false });
      this.#rl.on('close', () => {
        this.#inputEnded = true;
      });
    }
    return this.#rl;
  }
}

/** A display name as a quoted literal: escaped by printable(), quotes escaped too. */
export function quotedName(name: string): string {
  return `"${printable(name).replace(/"/g, '\\"')}"`;
}

/**
 * The requester in a fixed format: the name, one escaped and quoted line, then the account the
 * server checked on the line after it, right above the question (which names the account again).
 * Whatever a name does, even wrapping on a narrow terminal, it stays above the real account line.
 */
export function describeRequester(req: ControlRequest): string {
  const account = req.user === null ? 'guest, not signed in (checked by the server)' : `${printable(req.user)}, signed in (checked by the server)`;
  return ['A participant asks to control your screen:', `  name:    ${quotedName(req.name)} (chosen by the participant)`, `  account: ${account}`].join('\n');
}

function requesterShort(req: ControlRequest): string {
  return `${quotedName(req.name)} (${req.user === null ? 'guest' : `account ${printable(req.user)}`})`;
}
