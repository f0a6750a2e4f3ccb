/**
 * Keeps a recording's audio track (an <audio> element on /api/recordings/:id/audio, on the same
 * timeline as the screen) in step with the ReplayPlayer, whose clock leads: play and pause follow
 * it, a seek moves the audio to the same moment, and while playing a drift past `maxDriftMs`
 * (the element buffering, a slow tab) is corrected by moving the audio, not the picture.
 */
import type { ReplayPlayer } from './ReplayPlayer';

export interface ReplayAudioOptions {
  player: ReplayPlayer;
  audio: HTMLAudioElement;
  maxDriftMs?: number;
}

export class ReplayAudio {
  readonly #opts: ReplayAudioOptions;
  readonly #off: (() => void)[] = [];
  #closed = false;

  constructor(opts: ReplayAudioOptions) {
    this.#opts = opts;
    const { player } = opts;
    this.#off.push(
      player.on('playing', (playing) => (playing ? this.#play() : opts.audio.pause())),
      player.on('seeked', ({ t }) => this.#moveTo(t)),
      player.on('time', ({ t }) => {
        if (!player.playing || opts.audio.seeking) return;
        if (Math.abs(opts.audio.currentTime * 1000 - t) > (opts.maxDriftMs ?? 250)) this.#moveTo(t);
      }),
    );
  }

  #play(): void {
    this.#moveTo(this.#opts.player.time);
    // A refused play() (no user gesture yet) leaves the picture playing silently; the next click plays it.
    this.#opts.audio.play().catch(() => {});
  }

  #moveTo(t: number): void {
    if (this.#closed) return;
    this.#opts.audio.currentTime = t / 1000;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#off) off();
    this.#opts.audio.pause();
  }
}
