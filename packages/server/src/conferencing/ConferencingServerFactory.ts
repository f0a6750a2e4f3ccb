/**
 * Allocates a conferencing server for a conference and a media type. Today every server runs in
 * this process; the factory is the seam where a multi-node deployment picks another node.
 *
 * Audio: the factory owns the link to the audio mixer (Janus AudioBridge). With `audio.mode` auto
 * and Janus installed it runs Janus itself (JanusProcess, restarted when it dies); with a Janus URL
 * it connects to that one; otherwise audio is `unconfigured` and allocateAudio() returns null.
 */
import path from 'node:path';
import { AppShareServer } from '../sharing/AppShareServer.js';
import { AudioBridgeServer } from '../audio/AudioBridgeServer.js';
import { JanusAudioService } from '../audio/JanusAudioService.js';
import { JanusProcess, findJanus } from '../audio/JanusProcess.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { DataServer } from '../data/DataServer.js';
import { BlobStore } from '../data/BlobStore.js';
import type { Blobs } from '../data/Blobs.js';
import { SlideConverter, type SlideConverterOptions } from '../data/SlideConverter.js';
import type { Store } from '../store/Store.js';
import { PhoneCall, type PhoneCallOptions } from '../audio/sip/PhoneCall.js';
import { SipUserAgent } from '../audio/sip/SipUserAgent.js';
import type { SipConfig } from '../config.js';
import type { AppShareServerLike, AudioServerLike, AudioServiceStatus, MediaType } from './types.js';

export interface AudioOptions {
  /** auto: run Janus when it is installed (or use janusUrl); off: no audio. */
  mode: 'auto' | 'off';
  /** An external Janus WebSocket API, e.g. ws://127.0.0.1:8188 (instead of running our own). */
  janusUrl?: string | null;
  /** Its API secret, if it has one. */
  janusSecret?: string | null;
  /** Private directory for our own Janus's config and log. */
  dir: string;
  /** Override the janus binary (tests); default: found on PATH. */
  janusBinary?: string | null;
}

export interface ConferencingServerFactoryOptions {
  log?: { info?(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
  audio?: AudioOptions;
  /** A SIP trunk for dial-out to telephones (needs audio); null or absent: none. */
  sip?: SipConfig | null;
  /** Tests: give up on an unanswered INVITE sooner than RFC 3261's 32 s. */
  sipTransactionTimeoutMs?: number;
  /** Where shared files' bytes go, and the largest accepted (absent: a temp-free default under ./data/files, 100 MB). */
  files?: { dir: string; maxFileBytes: number; /** Cluster mode: the shared store instead of `dir`. */ blobs?: Blobs };
  /**
   * Slide decks: where their PDFs go, a work directory for conversions (both under the data
   * directory), the largest upload, and the LibreOffice conversion's limits. Absent: under ./data.
   */
  slides?: { dir: string; workDir: string; maxDeckBytes?: number; converter?: SlideConverterOptions; /** Cluster mode: the shared store instead of `dir`. */ blobs?: Blobs };
}

export type ConferencingServerFactoryEvents = {
  audioStatus: [status: AudioServiceStatus];
  /** A sharing relay was allocated (metrics read its stats while it lives and fold them in when it closes). */
  appShare: [server: AppShareServer];
};

export class ConferencingServerFactory extends TypedEmitter<ConferencingServerFactoryEvents> {
  readonly #opts: ConferencingServerFactoryOptions;
  /** Every live conferencing server, by its media type. */
  readonly #live = new Map<{ close(): void }, MediaType>();
  #janus: JanusProcess | null = null;
  #audio: JanusAudioService | null = null;
  #sip: SipUserAgent | null = null;
  #blobs: Blobs | null = null;
  #slideBlobs: Blobs | null = null;
  #converter: SlideConverter | null = null;

  constructor(opts: ConferencingServerFactoryOptions = {}) {
    super();
    this.#opts = opts;
    this.#startAudio();
    const sip = opts.sip;
    if (sip && this.#audio) {
      this.#sip = new SipUserAgent({
        trunk: sip.trunk,
        username: sip.username ?? undefined,
        password: sip.password ?? undefined,
        from: sip.from ?? undefined,
        numberFormat: sip.numberFormat,
        bindAddress: sip.address,
        bindPort: sip.port,
        noAnswerMs: sip.noAnswerSeconds * 1000,
        transactionTimeoutMs: opts.sipTransactionTimeoutMs,
        log: { info: (o, m) => opts.log?.info?.(o, m), warn: (o, m) => opts.log?.warn(o, m) },
      });
    } else if (sip) opts.log?.warn({}, 'sip: a trunk is configured but audio is off; no dial-out');
  }

  /** Whether telephones can be dialled (a trunk and an audio mixer). */
  get dialOut(): boolean {
    return this.#sip !== null;
  }

  /** A call to a telephone through the trunk (not started), or null without a trunk. */
  dialPhone(number: string, joinMixer: PhoneCallOptions['joinMixer']): PhoneCall | null {
    if (!this.#sip) return null;
    return new PhoneCall({ ua: this.#sip, number, joinMixer, log: { info: (o, m) => this.#opts.log?.info?.(o, m), warn: (o, m) => this.#opts.log?.warn(o, m) } });
  }

  #startAudio(): void {
    const a = this.#opts.audio;
    if (!a || a.mode === 'off') return;
    const log = { info: (o: unknown, m?: string) => this.#opts.log?.info?.(o, m), warn: (o: unknown, m?: string) => this.#opts.log?.warn(o, m) };
    if (a.janusUrl) {
      const url = a.janusUrl;
      this.#audio = new JanusAudioService({ url: () => url, apiSecret: a.janusSecret ?? undefined, log });
    } else {
      const binary = a.janusBinary ?? findJanus();
      if (!binary) {
        log.warn({}, 'audio: Janus is not installed (scripts/audio.sh install); meetings run without audio');
        return;
      }
      const janus = new JanusProcess({ dir: path.resolve(a.dir), binary, log });
      this.#janus = janus;
      this.#audio = new JanusAudioService({ url: () => janus.url, apiSecret: janus.apiSecret, log });
      janus.on('up', () => this.#audio?.start());
      janus.start().catch((err) => log.warn({ err: (err as Error).message }, 'audio: janus did not start'));
    }
    this.#audio.on('up', () => this.emit('audioStatus', 'ready'));
    this.#audio.on('down', () => this.emit('audioStatus', 'down'));
    this.#audio.start();
  }

  get audioStatus(): AudioServiceStatus {
    if (!this.#audio) return 'unconfigured';
    return this.#audio.ready ? 'ready' : 'down';
  }

  /** The supervised Janus, when this server runs its own (diagnostics and tests). */
  get janus(): JanusProcess | null {
    return this.#janus;
  }

  /**
   * The data-collaboration server of a conference (media type `data`: polls, Q&A), in this process;
   * its state lives in the store, so the node that next hosts the conference finds it there.
   */
  allocateData(conferenceId: string, store: Store): DataServer {
    const maxFileBytes = this.#opts.files?.maxFileBytes ?? 100e6;
    const slides = { blobs: this.slideBlobs, converter: this.converter, workDir: this.#opts.slides?.workDir ?? path.resolve('data', 'slides-work'), maxDeckBytes: this.#opts.slides?.maxDeckBytes ?? maxFileBytes };
    const server = new DataServer({ conferenceId, store, blobs: this.blobs, maxFileBytes, slides, log: this.#opts.log });
    this.#live.set(server, 'data');
    server.on('closed', () => this.#live.delete(server));
    return server;
  }

  allocate(conferenceId: string, media: Exclude<MediaType, 'audio' | 'data'>, hostId: string): AppShareServerLike {
    switch (media) {
      case 'appshare': {
        const server = new AppShareServer({ conferenceId, hostId });
        this.#live.set(server, 'appshare');
        server.on('closed', () => this.#live.delete(server));
        server.on('protocolError', (e) => this.#opts.log?.warn({ conferenceId, ...e }, 'sharing protocol error'));
        this.emit('appShare', server);
        return server;
      }
    }
  }

  /** One audio room for this conference (media type `audio`), or null when audio is not configured. */
  allocateAudio(conferenceId: string): AudioServerLike | null {
    if (!this.#audio) return null;
    const server = new AudioBridgeServer({ conferenceId, service: this.#audio, log: this.#opts.log });
    this.#live.set(server, 'audio');
    server.on('closed', () => this.#live.delete(server));
    return server;
  }

  /** The shared files' bytes (downloads read them here). */
  get blobs(): Blobs {
    this.#blobs ??= this.#opts.files?.blobs ?? new BlobStore({ dir: this.#opts.files?.dir ?? path.resolve('data', 'files') });
    return this.#blobs;
  }

  /** The slide decks' PDFs (kept apart from shared files, whose removal drops unused bytes). */
  get slideBlobs(): Blobs {
    this.#slideBlobs ??= this.#opts.slides?.blobs ?? new BlobStore({ dir: this.#opts.slides?.dir ?? path.resolve('data', 'slides') });
    return this.#slideBlobs;
  }

  /** The node's one presentation converter (LibreOffice, one conversion at a time). */
  get converter(): SlideConverter {
    this.#converter ??= new SlideConverter(this.#opts.slides?.converter);
    return this.#converter;
  }

  get liveServers(): number {
    return this.#live.size;
  }

  /** How many conferencing servers of one media type are live (e.g. audio rooms). */
  liveServersOf(media: MediaType): number {
    let n = 0;
    for (const m of this.#live.values()) if (m === media) n++;
    return n;
  }

  close(): void {
    for (const s of [...this.#live.keys()]) s.close();
    this.#converter?.close();
    this.#sip?.close();
    this.#sip = null;
    this.#audio?.close();
    this.#janus?.close();
    this.#audio = null;
    this.#janus = null;
    this.removeAllListeners();
  }
}
