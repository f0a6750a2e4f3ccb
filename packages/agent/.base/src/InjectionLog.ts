/**
 * What the agent injected recently, so input seen on the X server can be told apart: an event that
 * matches an entry here is the remote controller's; anything else is the local user's hand. Under
 * Xvfb (and with xdotool) both arrive through the same XTEST device, so the device cannot tell.
 */
export type InputKind = 'key' | 'button' | 'motion';

export type InputEventRecord = {
  kind: InputKind;
  /** press/release for keys and buttons; motion for the pointer. */
  action: 'press' | 'release' | 'motion';
  /** Keycode or button number; 0 for motion. */
  detail: number;
  /** Root coordinates (motion only). */
  x: number;
  y: number;
};

type Entry = InputEventRecord & { at: number };

export type InjectionLogOptions = {
  /** How long an injected event is expected to show up. */
  ttlMs?: number;
};

export class InjectionLog {
  readonly ttlMs: number;
  #entries: Entry[] = [];
  #heldKeys = new Set<number>();

  constructor(options: InjectionLogOptions = {}) {
    this.ttlMs = options.ttlMs ?? 1000;
  }

  record(e: InputEventRecord, now = Date.now()): void {
    this.#expire(now);
    this.#entries.push({ ...e, at: now });
    if (e.kind === 'key') {
      if (e.action === 'press') this.#heldKeys.add(e.detail);
      else this.#heldKeys.delete(e.detail);
    }
    if (this.#entries.length > 512) this.#entries.splice(0, this.#entries.length - 512);
  }

  /** True when the event is one the agent injected (the entry is consumed). */
  claim(e: InputEventRecord, now = Date.now()): boolean {
    this.#expire(now);
    const i = this.#entries.findIndex(
      (x) => x.kind === e.kind && x.action === e.action && x.detail === e.detail && (e.kind !== 'motion' || (x.x === e.x && x.y === e.y)),
    );
    if (i >= 0) {
      this.#entries.splice(i, 1);
      return true;
    }
    // The server's autorepeat of a key the agent holds down is the agent's too.
    return e.kind === 'key' && this.#heldKeys.has(e.detail);
  }

  #expire(now: number): void {
    let n = 0;
    while (n < this.#entries.length && now - this.#entries[n]!.at > this.ttlMs) n++;
    if (n > 0) this.#entries.splice(0, n);
  }
}
