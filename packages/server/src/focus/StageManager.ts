/**
 * What the meeting's stage shows for everyone: the shared screen, the whiteboard or the slides. One
 * value per conference, set by whoever may present (the Focus authorizes `stage.set` first) and sent
 * to every seat; a joiner gets it in its welcome. Not persisted: after a restart the stage starts on
 * the screen again, and the presenter switches it with one click. Viewers looking at another view
 * privately is the web client's business alone.
 */
import { defaultStage, type StageState, type StageView } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface StageManagerOptions {
  now?: () => Date;
}

export type StageManagerEvents = {
  /** The stage changed; send it to everyone. */
  changed: [StageState];
};

export class StageManager extends TypedEmitter<StageManagerEvents> {
  readonly #now: () => Date;
  #state: StageState;
  #closed = false;

  constructor(opts: StageManagerOptions = {}) {
    super();
    this.#now = opts.now ?? (() => new Date());
    this.#state = { ...defaultStage(), at: this.#now().toISOString() };
  }

  get state(): StageState {
    return this.#state;
  }

  /** Show `view` to everyone; choosing the view already shown changes nothing and tells nobody. */
  handleSet(view: StageView, by: string): void {
    if (this.#closed || this.#state.view === view) return;
    this.#state = { view, by, at: this.#now().toISOString() };
    this.emit('changed', this.#state);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.removeAllListeners();
  }
}
