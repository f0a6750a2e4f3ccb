import type { ShareMessage } from '@baton/protocol';

type InputMsg = Extract<ShareMessage, { type: 'pointer' | 'wheel' | 'key' }>;

/**
 * What the controller holds down on the host right now (keys, mouse buttons), learned from the input
 * the relay forwarded. When control moves or the controller's socket drops, the relay releases all of it,
 * so the host is never left with a stuck key or a dragging button it cannot see the end of.
 */
export class HeldInput {
  #keys = new Map<string, string>(); // code -> key
  #buttons = 0;
  #x = 0;
  #y = 0;

  track(msg: InputMsg): void {
    if (msg.type === 'key') {
      if (msg.down) this.#keys.set(msg.code, msg.key);
      else this.#keys.delete(msg.code);
      return;
    }
    this.#x = msg.x;
    this.#y = msg.y;
    if (msg.type === 'pointer') this.#buttons = msg.buttons;
  }

  get holding(): boolean {
    return this.#keys.size > 0 || this.#buttons !== 0;
  }

  /** The input that lets go of everything held, then forgets it. */
  releaseAll(): InputMsg[] {
    const out: InputMsg[] = [];
    for (const [code, key] of this.#keys) out.push({ type: 'key', down: false, key, code });
    if (this.#buttons !== 0) out.push({ type: 'pointer', x: this.#x, y: this.#y, buttons: 0 });
    this.#keys.clear();
    this.#buttons = 0;
    return out;
  }
}
