import { EventEmitter } from 'node:events';

/** An EventEmitter whose event names and argument tuples are checked by the compiler. */
export type EventMap = Record<string, unknown[]>;

export class TypedEmitter<E extends EventMap> {
  readonly #ee = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.#ee.emit(event, ...args);
  }
  /** Node warns past 10 listeners of one event; an emitter shared by many owners (one per conference)
   * that each remove theirs on close raises the limit, 0 meaning none. */
  setMaxListeners(n: number): this {
    this.#ee.setMaxListeners(n);
    return this;
  }
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#ee.listenerCount(event);
  }
  removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }
}
