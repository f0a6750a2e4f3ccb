/**
 * The audio conferencing server of one conference: one Janus AudioBridge room (an MCU that mixes
 * everyone's Opus audio and sends each participant the mix without their own voice), created on
 * first use and destroyed on close(). Each participant's leg is one AudioBridge handle, set up from
 * the browser's SDP offer. Input comes through handle*(); changes go out as `changed` events.
 * It never sees sockets or roles: the Focus authorized every call before it gets here.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Janode from 'janode';
import AudioBridgePlugin, { type AudioBridgeHandle } from 'janode/plugins/audiobridge';
import type { AudioParticipant } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { BadRequestError, BatonError, ConflictError, NotFoundError } from '../errors.js';
import type { JanusAudioService } from './JanusAudioService.js';
import type { MixSink } from '../conferencing/types.js';

export interface AudioBridgeServerOptions {
  conferenceId: string;
  service: JanusAudioService;
  log?: { warn(obj: unknown, msg?: string): void };
  /** How long after starting a segment its file must exist on this machine (remote Janus check). */
  mixFileCheckMs?: number;
}

export type AudioBridgeServerEvents = {
  /** The legs or the mixer's state changed; read participants() and ready. */
  changed: [];
  /** A leg ended without being asked to (ICE failed, the browser hung up, the mixer died). */
  dropped: [participantId: string, reason: string];
  closed: [];
};

interface Leg {
  handle: AudioBridgeHandle;
  feed: number;
  muted: boolean;
  listenOnly: boolean;
  /** The mixer's own voice detection; Janus keeps it across a mute, so speaking is derived. */
  talking: boolean;
  connected: boolean;
}

export class AudioBridgeServer extends TypedEmitter<AudioBridgeServerEvents> {
  readonly conferenceId: string;
  readonly #opts: AudioBridgeServerOptions;
  readonly #legs = new Map<string, Leg>();
  /** Bumped per participant on every join/leave, so a slow join that was overtaken backs out. */
  readonly #generation = new Map<string, number>();
  #room: Promise<number> | null = null;
  /** The room's number once Janus created it (null while down or not yet created). */
  #roomId: number | null = null;
  #closed = false;
  /** Recording the mix: where to, and the segment Janus is writing now. */
  #sink: MixSink | null = null;
  #segment: { sink: MixSink; file: string; room: number } | null = null;
  #recording: Promise<void> = Promise.resolve();
  #lastSegmentEnd = -Infinity;
  readonly #unavailable = new WeakSet<MixSink>();
  readonly #onUp = () => this.#serviceUp();
  readonly #onDown = () => this.#serviceDown();

  constructor(opts: AudioBridgeServerOptions) {
    super();
    this.#opts = opts;
    this.conferenceId = opts.conferenceId;
    opts.service.on('up', this.#onUp);
    opts.service.on('down', this.#onDown);
    if (opts.service.ready) this.#ensureRoom().catch(() => {});
  }

  get ready(): boolean {
    return this.#opts.service.ready;
  }

  get closed(): boolean {
    return this.#closed;
  }

  participants(): AudioParticipant[] {
    return [...this.#legs].map(([id, l]) => ({ id, muted: l.muted || l.listenOnly, listenOnly: l.listenOnly, speaking: l.talking && !l.muted && !l.listenOnly, connected: l.connected }));
  }

  has(participantId: string): boolean {
    return this.#legs.has(participantId);
  }

  /** Joins a participant's leg from its SDP offer; resolves with the mixer's SDP answer. */
  async handleJoin(participantId: string, display: string, offerSdp: string, listenOnly: boolean): Promise<string> {
    this.#assertOpen();
    if (!this.ready) throw new ConflictError('the audio mixer is restarting; try again in a moment');
    const gen = this.#bump(participantId);
    await this.#dropLeg(participantId); // a rejoin replaces the old leg
    const room = await this.#ensureRoom();
    const handle = await this.#opts.service.attach();
    const stale = () => this.#closed || this.#generation.get(participantId) !== gen;
    try {
      // AudioBridge mixes int16 PCM and sends the mix to everyone else; a listen-only leg joins muted.
      const joined = await handle.join({ room, display: display.slice(0, 64), muted: listenOnly, codec: 'opus' });
      if (stale()) throw new ConflictError('superseded');
      const leg: Leg = { handle, feed: Number(joined.feed), muted: listenOnly, listenOnly, talking: false, connected: false };
      this.#watch(participantId, leg);
      this.#legs.set(participantId, leg);
      let answer: string | undefined;
      try {
        answer = (await handle.configure({ muted: listenOnly, jsep: { type: 'offer', sdp: offerSdp } })).jsep?.sdp;
      } catch (err) {
        throw new BadRequestError(`the audio mixer refused this offer: ${(err as Error).message.slice(0, 200)}`);
      }
      if (!answer) throw new BadRequestError('the audio mixer gave no answer to this offer');
      if (stale()) throw new ConflictError('superseded');
      this.#changed();
      return answer;
    } catch (err) {
      if (this.#legs.get(participantId)?.handle === handle) this.#legs.delete(participantId);
      handle.detach().catch(() => {});
      this.#changed();
      if (err instanceof BatonError) throw err;
      throw new ConflictError(`audio could not start: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  /**
   * Joins a telephone leg as a plain-RTP participant in G.711: Janus sends the mix (without the
   * phone's own voice) to `relay` and tells us where it listens. Janus cannot make an SDP offer for
   * such a leg; the SIP side made the offer and this is Janus "answering" with its address.
   */
  async handleJoinPhone(participantId: string, display: string, codec: 'pcmu' | 'pcma', payloadType: number, relay: { address: string; port: number }): Promise<{ address: string; port: number }> {
    this.#assertOpen();
    if (!this.ready) throw new ConflictError('the audio mixer is restarting; try again in a moment');
    const gen = this.#bump(participantId);
    await this.#dropLeg(participantId);
    const room = await this.#ensureRoom();
    const handle = await this.#opts.service.attach();
    try {
      const joined = await handle.join({ room, display: display.slice(0, 64), muted: false, codec, rtp_participant: { ip: relay.address, port: relay.port, payload_type: payloadType } });
      if (this.#closed || this.#generation.get(participantId) !== gen) throw new ConflictError('superseded');
      if (!joined.rtp?.port) throw new ConflictError('the audio mixer gave no RTP address for the phone');
      // An RTP leg has no ICE/DTLS to wait for: it is connected once joined.
      const leg: Leg = { handle, feed: Number(joined.feed), muted: false, listenOnly: false, talking: false, connected: true };
      this.#watch(participantId, leg);
      this.#legs.set(participantId, leg);
      this.#changed();
      return { address: joined.rtp.ip, port: joined.rtp.port };
    } catch (err) {
      if (this.#legs.get(participantId)?.handle === handle) this.#legs.delete(participantId);
      handle.detach().catch(() => {});
      if (err instanceof BatonError) throw err;
      throw new ConflictError(`the phone could not join the audio: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  async handleLeave(participantId: string): Promise<void> {
    this.#bump(participantId);
    if (await this.#dropLeg(participantId)) this.#changed();
  }

  /** Self-mute, or an organizer's mute (the Focus never lets anyone unmute someone else). */
  async handleMute(participantId: string, muted: boolean): Promise<void> {
    const leg = this.#legs.get(participantId);
    if (!leg) throw new NotFoundError('not in the audio');
    if (!muted && leg.listenOnly) throw new BadRequestError('you joined listen-only; join with a microphone to talk');
    if (leg.muted === muted) return;
    await leg.handle.configure({ muted });
    leg.muted = muted;
    this.#changed();
  }

  /**
   * Record the room's mix into `sink` (null: stop). AudioBridge writes its mix to a WAV file only
   * while someone is in the room and keeps nothing across a restart, so a segment runs for each
   * stretch with legs in the room (started when the first leg is in, ended when the last one goes,
   * Janus dies, or recording stops), and the sink places each on the timeline by its start.
   */
  recordMix(sink: MixSink | null): Promise<void> {
    this.#sink = sink;
    return this.#syncRecording();
  }

  #changed(): void {
    this.emit('changed');
    void this.#syncRecording();
  }

  /** Bring Janus's recording in line with what is wanted; one step at a time, in order. */
  #syncRecording(): Promise<void> {
    const p = this.#recording.then(() => this.#applyRecording()).catch((err: unknown) => {
      this.#opts.log?.warn({ err: (err as Error).message, conference: this.conferenceId }, 'audio recording: janus refused');
    });
    this.#recording = p;
    return p;
  }

  async #applyRecording(): Promise<void> {
    const sink = this.#sink && !this.#unavailable.has(this.#sink) ? this.#sink : null;
    const room = this.#roomId;
    const want = sink !== null && !this.#closed && this.ready && room !== null && this.#legs.size > 0;
    const seg = this.#segment;
    if (seg && (!want || seg.sink !== sink || seg.room !== room)) {
      this.#segment = null;
      this.#lastSegmentEnd = performance.now();
      // With Janus gone the file simply ends where it was.
      await this.#opts.service.recordRoom(seg.room, null).catch(() => {});
      seg.sink.ended(seg.file);
    }
    if (!want || this.#segment) return;
    // AudioBridge looks at the flag once per 20 ms tick: a stop and a start within one tick would
    // go on writing the old file under the new segment's name.
    const wait = this.#lastSegmentEnd + 80 - performance.now();
    if (wait > 0) await sleep(wait);
    const file = sink.nextFile();
    const askedAt = performance.now();
    try {
      await this.#opts.service.recordRoom(room, { dir: sink.dir, file });
    } catch (err) {
      if (!this.ready || this.#roomId !== room) return; // Janus went away meanwhile: the next change retries
      // Janus refused (it could not create the directory on its machine, …): say so, once.
      this.#unavailable.add(sink);
      sink.unavailable(`the audio mixer (Janus) refused to record: ${(err as Error).message.slice(0, 200)}`);
      return;
    }
    this.#segment = { sink, file, room };
    sink.started(file, performance.now() - askedAt);
    this.#checkMixFile(sink, file);
  }

  /**
   * Janus writes the file on its own machine. If it never shows up here (a Janus elsewhere, named by
   * --janus-url), the audio cannot be recorded: say so once and stop asking Janus for it.
   */
  #checkMixFile(sink: MixSink, file: string): void {
    const timer = setTimeout(() => {
      if (existsSync(path.join(sink.dir, file)) || this.#unavailable.has(sink)) return;
      if (this.#segment?.file !== file) return; // ended at once: the next segment is checked
      this.#unavailable.add(sink);
      sink.unavailable('the audio mixer (Janus) did not write the recording into this server\'s data directory; a Janus on another machine (--janus-url) writes it there instead (docs/deploy.md)');
      void this.#syncRecording();
    }, this.#opts.mixFileCheckMs ?? 3000);
    timer.unref();
  }

  #bump(participantId: string): number {
    const g = (this.#generation.get(participantId) ?? 0) + 1;
    this.#generation.set(participantId, g);
    return g;
  }

  #watch(participantId: string, leg: Leg): void {
    const h = leg.handle;
    const mine = () => this.#legs.get(participantId) === leg;
    const onTalking = ({ feed, talking }: { feed: number; talking: boolean }) => {
      // Every leg hears every talking event; the one about this room's feed updates that feed's leg.
      for (const l of this.#legs.values()) {
        if (l.feed === Number(feed) && l.talking !== talking) {
          l.talking = talking;
          if (!l.muted) this.#changed();
        }
      }
    };
    // Listen on one leg only would miss events while it reconnects; duplicates are no-ops above.
    h.on(AudioBridgePlugin.EVENT.AUDIOBRIDGE_TALKING, onTalking);
    h.on(AudioBridgePlugin.EVENT.AUDIOBRIDGE_PEER_TALKING, onTalking);
    h.on(Janode.EVENT.HANDLE_WEBRTCUP, () => {
      if (!mine()) return;
      leg.connected = true;
      this.#changed();
    });
    const ended = (reason: string) => () => {
      if (!mine()) return;
      this.#legs.delete(participantId);
      h.detach().catch(() => {});
      this.emit('dropped', participantId, reason);
      this.#changed();
    };
    h.on(Janode.EVENT.HANDLE_HANGUP, ended('the audio connection ended'));
    h.on(Janode.EVENT.HANDLE_ICE_FAILED, ended('the audio connection failed (ICE)'));
    h.on(Janode.EVENT.HANDLE_DETACHED, ended('the audio mixer dropped the connection'));
  }

  async #dropLeg(participantId: string): Promise<boolean> {
    const leg = this.#legs.get(participantId);
    if (!leg) return false;
    this.#legs.delete(participantId);
    try {
      await leg.handle.leave();
    } catch {
      /* the mixer may already have dropped it */
    }
    leg.handle.detach().catch(() => {});
    return true;
  }

  #ensureRoom(): Promise<number> {
    if (!this.#room) {
      const room = randomInt(1, 2 ** 31 - 1);
      const p = this.#opts.service.createRoom(room, `baton ${this.conferenceId.slice(0, 12)}`).then(() => {
        if (this.#room === p) this.#roomId = room;
        return room;
      });
      this.#room = p;
      p.catch((err) => {
        if (this.#room === p) this.#room = null;
        this.#opts.log?.warn({ err: (err as Error).message, conference: this.conferenceId }, 'audio room not created');
      });
    }
    return this.#room;
  }

  #serviceDown(): void {
    // Janus is gone, and with it the room and every leg: clear them so the roster tells the truth.
    this.#room = null;
    this.#roomId = null;
    const ids = [...this.#legs.keys()];
    this.#legs.clear();
    for (const id of ids) this.emit('dropped', id, 'the audio mixer restarted');
    this.#changed();
  }

  #serviceUp(): void {
    if (this.#closed) return;
    this.#ensureRoom()
      .then(() => this.#changed())
      .catch(() => {});
  }

  #assertOpen(): void {
    if (this.#closed) throw new NotFoundError('audio has ended in this meeting');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.service.off('up', this.#onUp);
    this.#opts.service.off('down', this.#onDown);
    const legs = [...this.#legs.values()];
    this.#legs.clear();
    const room = this.#room;
    this.#room = null;
    this.#roomId = null;
    // Destroying the room closes its recording file; the segment ends here.
    const seg = this.#segment;
    this.#segment = null;
    if (seg) seg.sink.ended(seg.file);
    void (async () => {
      for (const l of legs) await l.handle.detach().catch(() => {});
      if (room) await room.then((r) => this.#opts.service.destroyRoom(r)).catch(() => {});
    })();
    this.emit('closed');
    this.removeAllListeners();
  }
}
