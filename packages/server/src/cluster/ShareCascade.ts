/**
 * A share whose home is another node, relayed to this node's viewers (issue 16 item 3): ONE
 * node-to-node channel from the home, read and acknowledged there like one viewer's (so a slow node
 * skips versions and resynchronises like a slow viewer, and never holds the host back for the
 * others), feeds a local AppShareServer with its own TileStore and per-viewer flow control. A late
 * joiner here gets the whole screen from this node; the home sends the stream here once.
 *
 * Authority stays on the home: it admitted each viewer (redeemed its ticket, checked its seat), says
 * which of them is in control (text frames on the channel), and passes input up from this node only
 * while its controller watches here. The last viewer leaving closes the channel; the home's end of
 * it (the share ended, the home moved or died) closes every viewer here with that code, or 1012.
 */
import WebSocket, { type RawData } from 'ws';
import { SHARE_LIMITS } from '@baton/protocol';
import { AppShareServer, type AppShareStats } from '../sharing/AppShareServer.js';
import type { ShareChannel } from '../sharing/ShareChannel.js';
import { WsShareChannel } from '../sharing/WsShareChannel.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { CascadeDown } from './types.js';

export interface ShareCascadeOptions {
  conferenceId: string;
  shareId: string;
  /** The home node and the ws:// URL of this share's cascade channel there. */
  home: { node: string; url: string };
  headers: Record<string, string>;
  /** Counts the bytes that came from the home (the cascade's measure: once per node, not per viewer). */
  onDownstreamBytes?: (n: number) => void;
  log?: { warn(o: unknown, m?: string): void };
}

/** Close codes a peer may not send: an abnormal end becomes "reconnect". */
const RESERVED = new Set([0, 1005, 1006, 1015]);
const SERVICE_RESTART = 1012;
const MOVING = 'the meeting is moving to another server; reconnecting';

export class ShareCascade extends TypedEmitter<{ closed: [] }> {
  readonly conferenceId: string;
  readonly shareId: string;
  /** The home node (ClusterNode closes the cascade when the conference moves off it). */
  readonly node: string;
  readonly #server: AppShareServer;
  readonly #up: WsShareChannel;
  readonly #viewers = new Map<string, ShareChannel>();
  readonly #log: ShareCascadeOptions['log'];
  #bytesIn = 0;
  #attaching = false;
  #closed = false;

  constructor(o: ShareCascadeOptions) {
    super();
    this.conferenceId = o.conferenceId;
    this.shareId = o.shareId;
    this.node = o.home.node;
    this.#log = o.log;
    this.#server = new AppShareServer({ conferenceId: o.conferenceId, hostId: `home:${o.home.node}` });
    const ws = new WebSocket(o.home.url, { headers: o.headers, maxPayload: SHARE_LIMITS.maxFrame, perMessageDeflate: false, handshakeTimeout: 5000 });
    ws.on('message', (data: RawData, binary: boolean) => {
      if (!binary) return; // control, not the stream
      const n = size(data);
      this.#bytesIn += n;
      o.onDownstreamBytes?.(n);
    });
    this.#up = new WsShareChannel(ws, { allowText: true });
    this.#up.on('text', (t) => this.#onControl(t));
    this.#up.on('close', (code, reason) => this.#end(code, reason));
    // Attached once open: its first words are the audience's caps, which a connecting socket would drop.
    ws.once('open', () => {
      if (!this.#closed) this.#server.attachHost(this.#up);
    });
    this.#server.on('hostGone', (code, reason) => this.#end(code, reason));
    this.#server.on('protocolError', (e) => this.#log?.warn({ conferenceId: this.conferenceId, ...e }, 'share cascade: protocol error'));
    this.#server.on('viewerGone', (p) => {
      if (this.#attaching) return; // replaced by its own new connection
      this.#viewers.delete(p);
      this.#up.sendText(JSON.stringify({ type: 'left', participantId: p }));
      if (this.#viewers.size === 0) this.#end(1000, 'no viewers left on this node');
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A viewer the home admitted (its ticket redeemed there). */
  attach(participantId: string, channel: ShareChannel): void {
    if (this.#closed) return channel.close(SERVICE_RESTART, MOVING);
    this.#attaching = true;
    try {
      this.#server.attachViewer(participantId, channel);
    } finally {
      this.#attaching = false;
    }
    this.#viewers.set(participantId, channel);
  }

  stats(): AppShareStats & { bytesFromHome: number } {
    return { ...this.#server.stats(), bytesFromHome: this.#bytesIn };
  }

  /** The conference moved (or this node stops): every viewer here reconnects. */
  close(): void {
    this.#end(SERVICE_RESTART, MOVING);
  }

  #onControl(text: string): void {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* checked below */
    }
    const m = CascadeDown.safeParse(parsed);
    if (!m.success) return this.#log?.warn({ conferenceId: this.conferenceId }, 'share cascade: bad control message from the home');
    if (m.data.type === 'controller') this.#server.setController(m.data.participantId);
    else this.#server.detachViewer(m.data.participantId, 'you may no longer watch this share');
  }

  #end(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = RESERVED.has(code) ? SERVICE_RESTART : code;
    const why = RESERVED.has(code) || !reason ? MOVING : reason;
    // The home's word goes to every viewer here, as it would have reached them directly.
    for (const ch of this.#viewers.values()) ch.close(c, why);
    this.#viewers.clear();
    this.#server.close(why);
    this.#up.close(1000, 'no viewers left on this node');
    this.emit('closed');
  }
}

function size(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : (data as Buffer).byteLength;
}
