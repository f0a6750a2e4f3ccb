/**
 * Feeds one ScreenView from two connections (the host's direct channel and the server's socket) so
 * that a change of path never blanks the picture:
 * - a `screen` with the geometry already shown is not passed on: ScreenView would clear the canvas
 *   to black, and the full refresh that follows it repaints every tile anyway, all at once when its
 *   frame is drawn. So the old picture stays until the new path's first frame lands;
 * - a source can be shut out for good (the direct path after the share moved to the server), so a
 *   late frame from it can never paint over newer pixels.
 */
import type { ShareMessage } from '@baton/protocol';
import { Emitter } from '../conference/Emitter';
import type { ScreenView } from '../sharing/ScreenView';
import type { ShareViewLike } from '../sharing/ShareConnection';

export type FeedSource = 'server' | 'peer';

export type ViewFeedEvents = {
  /** A frame from `source` went to the view (it is drawn a little later). */
  frame: { source: FeedSource; seq: number };
};

export class ViewFeed extends Emitter<ViewFeedEvents> {
  readonly view: ScreenView;
  #geometry: { width: number; height: number } | null = null;
  readonly #shut = new Set<FeedSource>();
  /** Which source fed the latest frame. */
  lastSource: FeedSource | null = null;
  readonly frames: Record<FeedSource, number> = { server: 0, peer: 0 };
  /** `screen` messages that kept the picture instead of clearing it. */
  keptScreens = 0;

  constructor(view: ScreenView) {
    super();
    this.view = view;
  }

  /** What one connection feeds. */
  source(name: FeedSource): ShareViewLike {
    return {
      handle: (msg) => this.#handle(name, msg),
      on: (event, listener) => this.view.on(event, listener),
    };
  }

  /** Nothing more from `name` reaches the view. */
  shut(name: FeedSource): void {
    this.#shut.add(name);
  }

  isShut(name: FeedSource): boolean {
    return this.#shut.has(name);
  }

  destroy(): void {
    this.removeAllListeners();
  }

  #handle(source: FeedSource, msg: ShareMessage): void {
    if (this.#shut.has(source)) return;
    if (msg.type === 'screen') {
      const g = this.#geometry;
      if (g && g.width === msg.width && g.height === msg.height) {
        this.keptScreens++;
        return;
      }
      this.#geometry = { width: msg.width, height: msg.height };
    }
    this.view.handle(msg);
    if (msg.type === 'frame') {
      this.frames[source]++;
      this.lastSource = source;
      this.emit('frame', { source, seq: msg.seq });
    }
  }
}
