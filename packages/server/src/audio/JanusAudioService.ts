/**
 * One Janus API connection (and session) shared by every conference's audio room on this server,
 * reconnected whenever it drops. It says `up` when AudioBridge handles can be attached and `down`
 * when every handle, leg and room is gone (Janus died or the socket broke): Janus keeps no state
 * across a restart, so the rooms must be created again.
 */
import Janode, { type JanodeConnection, type JanodeSession } from 'janode';
import AudioBridgePlugin, { type AudioBridgeHandle } from 'janode/plugins/audiobridge';
import { TypedEmitter } from '../util/TypedEmitter.js';

Janode.Logger.setLevel('none'); // janode logs to stdout on its own; we log what matters

export interface JanusAudioServiceOptions {
  /** Where Janus is now: a fixed URL, or the supervised process's current one (null while down). */
  url: () => string | null;
  apiSecret?: string | undefined;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export type JanusAudioServiceEvents = {
  up: [];
  down: [];
};

export class JanusAudioService extends TypedEmitter<JanusAudioServiceEvents> {
  readonly #opts: JanusAudioServiceOptions;
  #conn: JanodeConnection | null = null;
  #session: JanodeSession | null = null;
  #control: AudioBridgeHandle | null = null;
  #closed = false;
  #connecting = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelay = 200;

  constructor(opts: JanusAudioServiceOptions) {
    super();
    // Every conference's AudioBridgeServer listens for up/down and stops on close: one pair per live
    // room, bounded by the conference cap, so Node's default of 10 would warn about a normal server.
    this.setMaxListeners(0);
    this.#opts = opts;
  }

  get ready(): boolean {
    return this.#control !== null;
  }

  /** Connect now (and keep reconnecting after every loss until close()). */
  start(): void {
    if (this.#closed || this.#connecting || this.ready) return;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    const url = this.#opts.url();
    if (!url) return this.#retry();
    this.#connecting = true;
    let conn: JanodeConnection | null = null;
    try {
      conn = await Janode.connect({ address: { url, ...(this.#opts.apiSecret ? { apisecret: this.#opts.apiSecret } : {}) }, retry_time_secs: 1, max_retries: 1 });
      const lost = () => this.#lost(conn!);
      conn.once(Janode.EVENT.CONNECTION_CLOSED, lost);
      conn.once(Janode.EVENT.CONNECTION_ERROR, lost);
      const session = await conn.create(15);
      session.once(Janode.EVENT.SESSION_DESTROYED, lost);
      const control = await session.attach(AudioBridgePlugin);
      if (this.#closed) throw new Error('closed');
      this.#conn = conn;
      this.#session = session;
      this.#control = control;
      this.#retryDelay = 200;
      this.#opts.log?.info({ url }, 'connected to janus');
      this.emit('up');
    } catch (err) {
      conn?.close().catch(() => {});
      if (!this.#closed) this.#opts.log?.warn({ err: (err as Error).message, url }, 'cannot reach janus');
      this.#retry();
    } finally {
      this.#connecting = false;
    }
  }

  #retry(): void {
    if (this.#closed || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, this.#retryDelay);
    this.#retryTimer.unref();
    this.#retryDelay = Math.min(this.#retryDelay * 2, 2000);
  }

  #lost(conn: JanodeConnection): void {
    if (conn !== this.#conn) return;
    this.#conn = null;
    this.#session = null;
    this.#control = null;
    conn.close().catch(() => {});
    if (this.#closed) return;
    this.#opts.log?.warn({}, 'lost janus');
    this.emit('down');
    this.#retry();
  }

  /** A new AudioBridge handle for one participant's leg. */
  async attach(): Promise<AudioBridgeHandle> {
    if (!this.#session) throw new Error('audio mixer is down');
    return this.#session.attach(AudioBridgePlugin);
  }

  async createRoom(room: number, description: string): Promise<void> {
    if (!this.#control) throw new Error('audio mixer is down');
    // allow_rtp: telephone legs join as plain-RTP participants (audio/sip/PhoneCall).
    // Talking is re-evaluated every 10 packets (200 ms at 20 ms per packet): 5 updates a second.
    await this.#control.create({ room, description, sampling_rate: 48000, is_private: true, talking_events: true, talking_level_threshold: 35, talking_packets_threshold: 10, allow_rtp: true });
  }

  /**
   * Start (file and dir given) or stop writing a room's mix to a WAV file. The path is on Janus's
   * machine; AudioBridge opens the file at its mixer's next 20 ms tick and writes only while someone
   * is in the room (AudioBridgeServer starts a segment per occupied stretch for that reason).
   */
  async recordRoom(room: number, rec: { dir: string; file: string } | null): Promise<void> {
    if (!this.#control) throw new Error('audio mixer is down');
    await this.#control.enableRecording(rec ? { room, record: true, rec_dir: rec.dir, filename: rec.file } : { room, record: false });
  }

  async destroyRoom(room: number): Promise<void> {
    if (!this.#control) return;
    await this.#control.destroy({ room });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const conn = this.#conn;
    this.#conn = this.#session = this.#control = null;
    conn?.close().catch(() => {});
    this.removeAllListeners();
  }
}
