/**
 * The conference's audio, as the Focus sees it: whether someone added audio, the audio
 * conferencing server allocated for it (on first use, through the factory, media type `audio`),
 * and the relay of each participant's SDP offer to it and its answer back. Commands arrive already
 * authorized; errors leave as typed BatonErrors only, so a mixer hiccup never ends the conference.
 */
import { audioPolicy, type AudioState, type MeetingPolicy } from '@baton/protocol';
import type { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';
import type { AudioServerLike, MixSink } from '../conferencing/types.js';
import { BatonError, ConflictError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { AudioAuthzView } from './authorize.js';
import { DialOutManager, type DialOutManagerOptions } from './DialOutManager.js';

export interface AudioManagerOptions {
  conferenceId: string;
  factory: ConferencingServerFactory;
  /** Remembered numbers for "Call my phone" (the store); absent: nothing is remembered. */
  phoneBook?: DialOutManagerOptions['phoneBook'];
  log?: { info?(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export type AudioManagerEvents = {
  /** Broadcast this state: membership, mute, speaking, or the mixer's state changed. */
  changed: [state: AudioState];
  /** A participant's leg ended without them asking (mixer restart, ICE failure). */
  dropped: [participantId: string, reason: string];
  /** A participant was muted because they may no longer talk (policy or role change). */
  muted: [participantId: string, reason: string];
  /** Tell this participant something about a phone they dialled. */
  notice: [participantId: string, code: string, text: string];
};

export class AudioManager extends TypedEmitter<AudioManagerEvents> {
  readonly #opts: AudioManagerOptions;
  #server: AudioServerLike | null = null;
  #added = false;
  #closed = false;
  /** The running recording's mix sink, handed to every audio server this conference gets. */
  #mixSink: MixSink | null = null;
  readonly #onStatus = () => this.#changed();
  readonly #dial: DialOutManager;

  constructor(opts: AudioManagerOptions) {
    super();
    this.#opts = opts;
    opts.factory.on('audioStatus', this.#onStatus);
    this.#dial = new DialOutManager({
      conferenceId: opts.conferenceId,
      factory: opts.factory,
      audioServer: () => {
        this.handleAdd();
        return this.#server!;
      },
      leaveMixer: (id) => {
        if (this.#server?.has(id)) this.#server.handleLeave(id).catch(() => {});
      },
      phoneBook: opts.phoneBook ?? { get: async () => null, set: async () => {} },
      log: opts.log,
    });
    this.#dial.on('changed', () => this.#changed());
    this.#dial.on('notice', (id, code, text) => this.emit('notice', id, code, text));
  }

  state(): AudioState {
    const service = this.#opts.factory.audioStatus;
    // No leg outlives the mixer: while it is down nobody is in the audio, whatever arrives first.
    const phones = this.#dial.legs();
    return { service, added: this.#added, participants: service === 'ready' ? (this.#server?.participants() ?? []) : [], ...(this.#dial.available ? { dialOut: true } : {}), ...(phones.length ? { phones } : {}) };
  }

  /** What authorize() needs to know about the audio. */
  authzView(): AudioAuthzView {
    const members = new Map<string, { listenOnly: boolean; muted: boolean }>();
    for (const p of this.#server?.participants() ?? []) members.set(p.id, { listenOnly: p.listenOnly, muted: p.muted });
    return { service: this.#opts.factory.audioStatus, added: this.#added, members, dialOut: this.#dial.available, phones: this.#dial.authzView() };
  }

  isMember(participantId: string): boolean {
    return this.#server?.has(participantId) ?? false;
  }

  handleAdd(): void {
    if (this.#added) return;
    this.#server ??= this.#allocate();
    this.#added = true;
    this.#changed();
  }

  /** Relays the participant's offer to the audio server; returns its answer. */
  async handleJoin(participantId: string, name: string, sdp: string, listenOnly: boolean): Promise<string> {
    this.handleAdd();
    return this.#guard(() => this.#server!.handleJoin(participantId, name, sdp, listenOnly));
  }

  async handleLeave(participantId: string): Promise<void> {
    if (this.#server) await this.#guard(() => this.#server!.handleLeave(participantId));
  }

  async handleMute(participantId: string, muted: boolean): Promise<void> {
    if (!this.#server) throw new ConflictError('not in the audio');
    await this.#guard(() => this.#server!.handleMute(participantId, muted));
  }

  /** Record the mix while a recording runs (null: stop), also through audio added later or re-added. */
  recordMix(sink: MixSink | null): Promise<void> {
    this.#mixSink = sink;
    return this.#server?.recordMix(sink) ?? Promise.resolve();
  }

  /** Dial a telephone into the audio; resolves with its leg id once the call is placed. */
  async handleDial(caller: { id: string; name: string; userId: string | null }, number: string | undefined, mine: boolean): Promise<string> {
    return this.#guard(() => this.#dial.handleDial(caller, number, mine));
  }

  handleHangup(legId: string): void {
    this.#dial.handleHangup(legId);
  }

  /** The participant left the conference: their leg goes too. */
  handleGone(participantId: string): void {
    if (this.#server?.has(participantId)) this.#server.handleLeave(participantId).catch(() => {});
  }

  /**
   * The policy changed: `off` ends the audio for everyone; a participant who may no longer talk
   * is muted (mayTalk decides by role).
   */
  async applyPolicy(policy: MeetingPolicy, mayTalk: (participantId: string) => boolean): Promise<void> {
    if (audioPolicy(policy) === 'off') return this.end();
    for (const p of this.#server?.participants() ?? []) {
      // A phone talks for its owner (or whoever dialled it).
      const speaker = this.#dial.isLeg(p.id) ? this.#dial.speakerOf(p.id) : p.id;
      if (p.muted || (speaker !== null && mayTalk(speaker))) continue;
      const ok = await this.#server!.handleMute(p.id, true).then(() => true, () => false);
      if (ok) this.emit('muted', p.id, 'the meeting policy lets only presenters talk');
    }
  }

  /** Audio ends for everyone (policy off); it can be added again later. */
  end(): void {
    const s = this.#server;
    this.#server = null;
    this.#added = false;
    this.#dial.hangupAll('audio was turned off in this meeting');
    s?.close();
    this.#changed();
  }

  #allocate(): AudioServerLike {
    const s = this.#opts.factory.allocateAudio(this.#opts.conferenceId);
    if (!s) throw new ConflictError('audio is not configured on this server');
    s.on('changed', () => this.#changed());
    s.on('dropped', (id, reason) => (this.#dial.isLeg(id) ? this.#dial.handleDropped(id, reason) : this.emit('dropped', id, reason)));
    if (this.#mixSink) void s.recordMix(this.#mixSink);
    return s;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BatonError) throw err;
      this.#opts.log?.warn({ err, conference: this.#opts.conferenceId }, 'audio command failed');
      throw new ConflictError(`the audio mixer did not do it: ${(err as Error).message?.slice(0, 200)}`);
    }
  }

  #changed(): void {
    if (!this.#closed) this.emit('changed', this.state());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.factory.off('audioStatus', this.#onStatus);
    this.#dial.close();
    this.#server?.close();
    this.#server = null;
    this.removeAllListeners();
  }
}
