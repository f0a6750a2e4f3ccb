/**
 * Recording for one conference: starts and stops the recording (the Focus authorized the command),
 * keeps it fed (the share's stream while someone shares, public chat, who comes and goes) and says
 * when it stopped without being asked (size cap, disk full). It never fails the conference: a recording
 * that cannot go on ends with a reason and the meeting goes on.
 */
import type { ChatMessage, RecordingState } from '@baton/protocol';
import type { ConferenceRecord } from '../store/Store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppShareServerLike, MixSink } from '../conferencing/types.js';
import type { RecordingService } from '../recording/RecordingService.js';
import type { Recorder } from '../recording/Recorder.js';
import { ConflictError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface RecordingManagerOptions {
  conferenceId: string;
  /** Absent: this server does not record. */
  service?: RecordingService | undefined;
  /** The conference's audio (AudioManager): records the mix into the recording while it runs. */
  audio?: { recordMix(sink: MixSink | null): Promise<void> };
  log?: { warn(obj: unknown, msg?: string): void };
}

export type RecordingManagerEvents = {
  /** Started (state) or stopped (null). */
  changed: [state: RecordingState | null];
  /** It stopped by itself; `reason` is for people. */
  stopped: [reason: string];
};

interface Running {
  id: string;
  recorder: Recorder;
  state: RecordingState;
}

export class RecordingManager extends TypedEmitter<RecordingManagerEvents> {
  readonly #opts: RecordingManagerOptions;
  #running: Running | null = null;
  #starting = false;
  #share: AppShareServerLike | null = null;
  #closed = false;

  constructor(opts: RecordingManagerOptions) {
    super();
    this.#opts = opts;
  }

  get available(): boolean {
    return this.#opts.service !== undefined;
  }
  get active(): boolean {
    return this.#running !== null || this.#starting;
  }
  get state(): RecordingState | null {
    return this.#running?.state ?? null;
  }

  async handleStart(record: ConferenceRecord, by: { userId: string; name: string }, people: { id: string; name: string }[], sharer: string | null): Promise<string> {
    const service = this.#opts.service;
    if (!service) throw new ConflictError('this server does not record meetings');
    if (this.active) throw new ConflictError('the meeting is already being recorded');
    this.#starting = true;
    let started: Awaited<ReturnType<RecordingService['start']>>;
    try {
      started = await service.start(record, by.userId);
    } finally {
      this.#starting = false;
    }
    const { id, recorder, startedAt } = started;
    if (this.#closed) {
      void service.finish(id, recorder, null);
      throw new ConflictError('the meeting has ended');
    }
    this.#running = { id, recorder, state: { id, startedAt, by: by.name } };
    recorder.on('failed', (reason) => this.#stop(reason));
    recorder.event({ type: 'roster', people });
    void this.#opts.audio?.recordMix(recorder.mixSink(this.#opts.log));
    if (this.#share) {
      if (sharer) recorder.event({ type: 'share', started: true, name: sharer });
      recorder.attachShare(this.#share);
    }
    this.emit('changed', this.state);
    return id;
  }

  async handleStop(): Promise<void> {
    if (!this.#running) throw new ConflictError('the meeting is not being recorded');
    await this.#stop(null);
  }

  /** Stop by itself (e.g. the policy no longer allows it): everyone is told why. */
  stop(reason: string): Promise<void> {
    return this.#stop(reason);
  }

  shareStarted(share: AppShareServerLike, name: string): void {
    if (this.#share === share) return;
    this.#share = share;
    const r = this.#running?.recorder;
    if (!r) return;
    r.event({ type: 'share', started: true, name });
    r.attachShare(share);
  }

  shareStopped(name: string | null): void {
    if (!this.#share) return;
    this.#share = null;
    const r = this.#running?.recorder;
    if (!r) return;
    r.detachShare();
    r.event({ type: 'share', started: false, name: name ?? '' });
  }

  chat(message: ChatMessage): void {
    this.#running?.recorder.event({ type: 'chat', message: { senderName: message.senderName, senderUser: message.senderUser, text: message.text, at: message.at } });
  }

  joined(id: string, name: string): void {
    this.#running?.recorder.event({ type: 'joined', id, name });
  }

  left(id: string, name: string): void {
    this.#running?.recorder.event({ type: 'left', id, name });
  }

  /** The conference ends: the recording is finished (the service waits for its files at shutdown). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#stop(null, false);
    this.removeAllListeners();
  }

  async #stop(reason: string | null, announce = true): Promise<void> {
    const run = this.#running;
    if (!run) return;
    this.#running = null;
    if (announce) {
      this.emit('changed', null);
      if (reason) this.emit('stopped', reason);
    }
    const audio = this.#opts.audio;
    const last = (async () => {
      if (audio) {
        // Janus answers the stop, then closes the WAV file at its mixer's next 20 ms tick (flushing
        // its last frames): give it that before the segments are joined.
        await Promise.race([audio.recordMix(null), sleep(5000)]);
        await sleep(250);
      }
      run.recorder.event({ type: 'end', ...(reason ? { reason } : {}) });
    })();
    // finish() is entered at once, so a server shutting down waits for all of it.
    await this.#opts.service!.finish(run.id, run.recorder, reason, last);
  }
}
