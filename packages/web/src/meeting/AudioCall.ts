/**
 * This browser's leg of the meeting's audio: one RTCPeerConnection to the server's mixer, set up
 * with an SDP offer that the Focus relays (audio.join, answered in ack.sdp). Echo-cancelled,
 * noise-suppressed capture by default; listen-only joins with no microphone at all. Muting stops
 * the track here (nothing leaves the machine) and tells the server (the roster shows it).
 * When the mixer drops the leg (it restarted, or ICE failed) the call rejoins on its own.
 */
import type { AudioState } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { Emitter } from '../conference/Emitter';

export type AudioPhase = 'idle' | 'joining' | 'connected' | 'rejoining' | 'failed';

export interface AudioCallSnapshot {
  phase: AudioPhase;
  listenOnly: boolean;
  /** Our own wish; the server's view of it is in the conference's audio state. */
  muted: boolean;
  /** Space bar held while muted: talking for now. */
  pushToTalk: boolean;
  deviceId: string | null;
  /** An i18n key (audio.err.*) for the known failures, else the browser's own message. */
  error: string | null;
}

const IDLE: AudioCallSnapshot = { phase: 'idle', listenOnly: false, muted: false, pushToTalk: false, deviceId: null, error: null };
const GATHER_LIMIT_MS = 3000;
const MAX_REJOINS = 5;

export function micConstraints(deviceId: string | null): MediaTrackConstraints {
  return { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
}

export class AudioCall extends Emitter<{ change: AudioCallSnapshot }> {
  private snap: AudioCallSnapshot = IDLE;
  private pc: RTCPeerConnection | null = null;
  private mic: MediaStream | null = null;
  private readonly player: HTMLAudioElement;
  private wanted = false;
  private rejoins = 0;
  private serviceWasDown = false;
  private attempt = 0;
  private readonly offs: (() => void)[] = [];

  constructor(private readonly client: ConferenceClient) {
    super();
    this.player = document.createElement('audio');
    this.player.autoplay = true;
    this.offs.push(
      client.on('notice', ({ code }) => {
        if (code === 'audio.removed') this.stop('audio.err.removed');
        else if (code === 'audio.muted') this.applyMute(true, false);
        else if (code === 'audio.dropped' && this.wanted) this.dropped();
      }),
      client.on('change', (s) => this.review(s.audio)),
    );
  }

  get snapshot(): AudioCallSnapshot {
    return this.snap;
  }

  subscribe = (listener: () => void): (() => void) => this.on('change', listener);
  getSnapshot = (): AudioCallSnapshot => this.snap;

  /** Join the meeting's audio (adds it to the meeting if nobody has yet). */
  async join(listenOnly: boolean): Promise<void> {
    this.wanted = true;
    this.rejoins = 0;
    this.set({ listenOnly, muted: false, pushToTalk: false, error: null });
    await this.connect();
  }

  leave(): void {
    if (this.wanted && this.snap.phase !== 'idle') this.client.send({ type: 'audio.leave' });
    this.stop(null);
  }

  /** Mute or unmute ourselves (the organizer can mute us, never unmute). */
  setMuted(muted: boolean): void {
    this.applyMute(muted, true);
  }

  /** Space bar: talk while held, when muted. */
  pushToTalk(down: boolean): void {
    if (!this.mic || this.snap.listenOnly || !this.snap.muted || this.snap.pushToTalk === down) return;
    this.set({ pushToTalk: down });
    this.client.send({ type: 'audio.mute', muted: !down });
    this.syncTrack();
  }

  /** Switch microphones without leaving the call. */
  async setDevice(deviceId: string): Promise<void> {
    this.set({ deviceId });
    if (!this.pc || this.snap.listenOnly) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: micConstraints(deviceId) });
    const track = stream.getAudioTracks()[0]!;
    const sender = this.pc.getSenders().find((s) => s.track?.kind === 'audio' || s.track === null);
    await sender?.replaceTrack(track);
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = stream;
    this.syncTrack();
  }

  dispose(): void {
    this.stop(null);
    this.offs.forEach((off) => off());
    this.removeAllListeners();
  }

  // ------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    this.teardown();
    this.set({ phase: this.snap.phase === 'rejoining' ? 'rejoining' : 'joining' });
    try {
      const pc = new RTCPeerConnection({ iceServers: [...this.client.snapshot.iceServers] });
      this.pc = pc;
      if (this.snap.listenOnly) {
        pc.addTransceiver('audio', { direction: 'recvonly' });
      } else {
        this.mic ??= await navigator.mediaDevices.getUserMedia({ audio: micConstraints(this.snap.deviceId) });
        for (const t of this.mic.getAudioTracks()) pc.addTrack(t, this.mic);
        this.syncTrack();
      }
      pc.ontrack = (ev) => {
        this.player.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
        this.player.play().catch(() => {});
      };
      pc.onconnectionstatechange = () => {
        if (this.pc === pc && pc.connectionState === 'failed' && this.wanted) this.dropped();
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (attempt !== this.attempt) return;
      const ack = await this.client.request({ type: 'audio.join', sdp: pc.localDescription!.sdp, listenOnly: this.snap.listenOnly });
      if (attempt !== this.attempt) return;
      if (!ack.sdp) throw new Error('the server sent no answer');
      await pc.setRemoteDescription({ type: 'answer', sdp: ack.sdp });
      this.set({ phase: 'connected', error: null });
      this.rejoins = 0;
      // A mute we asked for before (or while) joining: the new leg starts unmuted at the mixer.
      if (this.snap.muted && !this.snap.listenOnly) this.client.send({ type: 'audio.mute', muted: true });
    } catch (err) {
      if (attempt !== this.attempt) return;
      this.teardown();
      const e = err as { message?: string; name?: string };
      const message = e.name === 'NotAllowedError' ? 'audio.err.refused' : e.name === 'NotFoundError' ? 'audio.err.noMic' : (e.message ?? String(err));
      this.wanted = false;
      this.mic?.getTracks().forEach((t) => t.stop());
      this.mic = null;
      this.set({ phase: 'failed', error: message });
    }
  }

  /** The server's audio state changed: react to a mixer that went down and came back. */
  private review(audio: AudioState | null): void {
    if (!audio || !this.wanted) return;
    if (audio.service !== 'ready') {
      this.serviceWasDown = true;
      if (this.snap.phase === 'connected') this.dropped();
      return;
    }
    if (this.snap.phase === 'rejoining' && this.serviceWasDown && this.pc === null) {
      this.serviceWasDown = false;
      void this.connect();
    }
  }

  private dropped(): void {
    if (this.snap.phase === 'rejoining' && this.pc === null) return;
    this.teardown();
    if (++this.rejoins > MAX_REJOINS) return this.stop('audio.err.lost');
    this.set({ phase: 'rejoining' });
    // Rejoin now if the mixer is up (ICE failure, a dropped leg); otherwise when it says ready.
    if (this.client.snapshot.audio?.service === 'ready') void this.connect();
    else this.serviceWasDown = true;
  }

  private applyMute(muted: boolean, tellServer: boolean): void {
    if (this.snap.listenOnly && !muted) return;
    this.set({ muted, pushToTalk: false });
    this.syncTrack();
    if (tellServer && this.snap.phase === 'connected') this.client.send({ type: 'audio.mute', muted });
  }

  private syncTrack(): void {
    const live = !this.snap.muted || this.snap.pushToTalk;
    this.mic?.getAudioTracks().forEach((t) => (t.enabled = live));
  }

  private teardown(): void {
    this.pc?.close();
    this.pc = null;
    this.player.srcObject = null;
  }

  private stop(error: string | null): void {
    this.wanted = false;
    this.attempt++;
    this.teardown();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.set({ ...IDLE, deviceId: this.snap.deviceId, error });
  }

  private set(patch: Partial<AudioCallSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    this.emit('change', this.snap);
  }
}

/** Wait until ICE gathering completes (the offer then carries every candidate), at most a few seconds. */
function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, GATHER_LIMIT_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
