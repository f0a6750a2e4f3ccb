import { ShareDecodeError, TileEncoding, decodeShareMessage, encodeShareMessage, isInputMessage, type ShareMessage } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { HeldInput } from './HeldInput.js';
import type { ShareChannel } from './ShareChannel.js';
import { ShareViewer, type ShareCounters } from './ShareViewer.js';
import { TileStore, TileStoreError, compact, type TileEntry } from './TileStore.js';

export interface AppShareServerOptions {
  conferenceId: string;
  /** Participant id of the sharer (used in events and logs). */
  hostId: string;
  /**
   * The host's flow-control window: frames it may have unacknowledged (the agent's FlowControl: 2 of any
   * size, up to 8 small ones). The relay acks a frame once a viewer has taken it, so a host that keeps
   * more pending than this is ignoring its window; that is counted (stats.hostOverruns), and past 16x
   * the window (at least 64) the host is disconnected. Default 8.
   */
  maxHostUnacked?: number;
  /** Frames a viewer may have unacknowledged before it is considered behind. Default 2. */
  viewerMaxUnacked?: number;
  /** Frames a viewer may have unacknowledged while they are small together (ShareViewer). Default 8. */
  viewerMaxSmallUnacked?: number;
  /**
   * A viewer whose send buffer holds this many bytes (ShareChannel.bufferedAmount, which counts each
   * queued message's bookkeeping too) is sent nothing more until it drains: what one viewer that never
   * reads can cost the server.
   */
  viewerHighWater?: number;
  /** A viewer's catch-up sends at most this many tiles, or this many bytes, per turn of the event loop. */
  sliceTiles?: number;
  sliceBytes?: number;
  /** Latest frames kept whole to replay to a viewer that missed them (TileStore historyFrames; default 4). */
  replayFrames?: number;
}

/** Sees every host message the relay accepted, as received (the recorder: sharing stream bytes, never re-encoded). */
export interface ShareTap {
  message(msg: ShareMessage, bytes: Uint8Array): void;
  /**
   * The tap needs every region as tiles (a recording: the host then sends the ALT tiles under a video
   * stream). Default true; a tap that only follows which cells change says false.
   */
  needsTiles?: boolean;
  /** The tap is also given the video units (Video tiles), which are otherwise left out. Default false. */
  video?: boolean;
}

export interface ShareProtocolError {
  participantId: string;
  role: 'host' | 'viewer';
  reason: string;
}

export type AppShareServerEvents = {
  /** close() ran: every channel is closed. */
  closed: [];
  /** The host's channel closed (the share itself lives on until close(); a host may reattach). */
  hostGone: [code: number, reason: string];
  /** A viewer's channel closed or was detached. */
  viewerGone: [participantId: string];
  /** A peer broke the protocol; its channel (only that one) was closed with 1008. */
  protocolError: [error: ShareProtocolError];
};

export interface AppShareStats {
  viewers: number;
  bytesIn: number;
  bytesOut: number;
  /** Host `frame` messages received. */
  framesIn: number;
  inputForwarded: number;
  inputDropped: number;
  /** Clipboard frames forwarded from the controller to the host, or from the host to the controller. */
  clipboardForwarded: number;
  /** Clipboard frames dropped: from a viewer not in control, or from the host while nobody controls. */
  clipboardDropped: number;
  /** Tile versions a slow viewer never got because a newer one replaced them first. */
  tilesSkipped: number;
  /** Host frames not yet acknowledged to the host. */
  hostUnacked: number;
  hostOverruns: number;
  /** Copy tiles a viewer could not use, whose pixels the host was asked for. */
  refreshesAsked: number;
  /** Frames sent to a viewer that had missed some as a replay of the missed frames (no refresh needed). */
  framesReplayed: number;
  /** Copy tiles received from the host (content that moved). */
  copiesIn: number;
  /** Bytes of screen state held (bounded by the store's budget, see TileStore). */
  storeBytes: number;
  /** Viewers being sent a frame's tiles a slice at a time (a late join, or after skipping versions). */
  catchUps: number;
  /** Video units received from the host, and keyframes asked of it. */
  videoUnitsIn: number;
  keyframesAsked: number;
  /** Viewers that decode video (their `caps`). */
  videoViewers: number;
  /** Other nodes of a cluster that relay this share to their own viewers (each counted once in `viewers`). */
  cascades: number;
  /** Participants watching through those nodes. */
  remoteViewers: number;
}

/** Control of a cascade, home to node (text frames, in order with the stream). */
export type CascadeDown = { type: 'controller'; participantId: string | null } | { type: 'detach'; participantId: string };
/** Node to home: one of its viewers left. */
export type CascadeUp = { type: 'left'; participantId: string };

const CASCADE_PREFIX = 'cascade:';

/** At most one keyframe request to the host this often: each costs every video viewer a keyframe's bytes. */
const KEYFRAME_INTERVAL_MS = 1000;
/** What a host assumes until told otherwise: nobody decodes video. */
const HOST_DEFAULT_CAPS = { video: false, tiles: true } as const;

const POLICY = 1008;

/**
 * The application sharing relay for one shared screen: the host sends tiles and cursor, the relay keeps
 * the current screen (TileStore) and fans it out to viewers, each at its own pace (ShareViewer). Input
 * goes the other way, only from the participant the Focus made controller.
 */
export class AppShareServer extends TypedEmitter<AppShareServerEvents> {
  readonly conferenceId: string;
  readonly hostId: string;
  readonly #maxHostUnacked: number;
  readonly #viewerMaxUnacked: number;
  readonly #viewerMaxSmallUnacked: number;
  readonly #viewerHighWater: number;
  readonly #sliceTiles: number | undefined;
  readonly #sliceBytes: number | undefined;
  readonly #store: TileStore;
  readonly #viewers = new Map<string, ShareViewer>();
  readonly #detach = new Map<ShareChannel, () => void>();
  readonly #counters: ShareCounters = { bytesOut: 0, tilesSkipped: 0, framesReplayed: 0 };
  readonly #held = new HeldInput();
  readonly #taps = new Set<ShareTap>();
  #host: ShareChannel | null = null;
  /** Host frames received and not yet acked, oldest first. */
  #hostPending: { seq: number; commit: number }[] = [];
  #controllerId: string | null = null;
  #closed = false;
  #bytesIn = 0;
  #framesIn = 0;
  #inputForwarded = 0;
  #inputDropped = 0;
  #clipboardForwarded = 0;
  #clipboardDropped = 0;
  #hostOverruns = 0;
  #refreshesAsked = 0;
  #copiesIn = 0;
  #videoUnitsIn = 0;
  #keyframesAsked = 0;
  #lastKeyframeAsk = 0;
  /** Cluster: participants admitted by the home to watch through another node, and that node. */
  readonly #remote = new Map<string, string>();
  /** A random id of this share: a cascade opened for an earlier share of the conference is refused. */
  readonly shareId = Math.random().toString(36).slice(2, 12);
  /** What the host was last told of its audience (see #audienceChanged); a host never told sends tiles only. */
  #told: { video: boolean; tiles: boolean } = HOST_DEFAULT_CAPS;

  constructor(options: AppShareServerOptions) {
    super();
    this.conferenceId = options.conferenceId;
    this.hostId = options.hostId;
    this.#maxHostUnacked = options.maxHostUnacked ?? 8;
    this.#viewerMaxUnacked = options.viewerMaxUnacked ?? 2;
    this.#viewerMaxSmallUnacked = options.viewerMaxSmallUnacked ?? 8;
    this.#viewerHighWater = options.viewerHighWater ?? 1024 * 1024;
    this.#sliceTiles = options.sliceTiles;
    this.#sliceBytes = options.sliceBytes;
    this.#store = new TileStore({ historyFrames: options.replayFrames });
  }

  get closed(): boolean {
    return this.#closed;
  }
  get controllerId(): string | null {
    return this.#controllerId;
  }
  get hasHost(): boolean {
    return this.#host !== null;
  }
  /** The screen state, read-only use (tests, diagnostics). */
  get store(): TileStore {
    return this.#store;
  }

  /** The host's (authenticated) channel. A second call replaces the first connection. */
  attachHost(channel: ShareChannel): void {
    if (this.#closed) {
      channel.close(1001, 'the share has ended');
      return;
    }
    if (this.#host) this.#drop(this.#host, 1000, 'replaced by a new host connection');
    this.#host = channel;
    this.#hostPending = [];
    this.#listen(channel, (bytes) => this.#onHostMessage(bytes), (code, reason) => {
      if (this.#host !== channel) return;
      this.#host = null;
      this.#hostPending = [];
      if (!this.#closed) this.emit('hostGone', code, reason);
    });
    this.#told = HOST_DEFAULT_CAPS;
    this.#audienceChanged();
  }

  /** A viewer's (authenticated) channel. It is sent the whole current screen, a slice at a time. */
  attachViewer(participantId: string, channel: ShareChannel): void {
    if (this.#closed) {
      channel.close(1001, 'the share has ended');
      return;
    }
    this.detachViewer(participantId, 'replaced by a new connection');
    const viewer = new ShareViewer({
      participantId,
      channel,
      store: this.#store,
      counters: this.#counters,
      maxUnacked: this.#viewerMaxUnacked,
      maxSmallUnacked: this.#viewerMaxSmallUnacked,
      highWater: this.#viewerHighWater,
      sliceTiles: this.#sliceTiles,
      sliceBytes: this.#sliceBytes,
      onFrame: (commit) => this.#ackHost(commit),
      onUnresolved: this.#askPixels,
      onLongVideoRun: (rect) => this.#askKeyframe(rect),
    });
    this.#viewers.set(participantId, viewer);
    this.#listen(channel, (bytes) => this.#onViewerMessage(viewer, bytes), () => this.#forget(viewer));
    channel.on('drain', () => this.#flush(viewer));
    viewer.start();
    // After the frames it sent with its auth (its `caps`, held by the channel until now) are read.
    setImmediate(() => this.#audienceChanged());
  }

  /**
   * Cluster: another node relays this share to its own viewers over one channel, read and acked as
   * one viewer's (so a slow node skips versions like a slow viewer). The participants behind it are
   * those admitted with admitRemote; input from it reaches the host only while the controller is one.
   */
  attachCascade(node: string, channel: ShareChannel): void {
    // An earlier channel of the same node becomes a plain viewer on its way out: its leaving must not
    // take the participants the node has admitted since.
    const old = this.#viewers.get(CASCADE_PREFIX + node);
    if (old) old.node = undefined;
    this.attachViewer(CASCADE_PREFIX + node, channel);
    const viewer = this.#viewers.get(CASCADE_PREFIX + node);
    if (!viewer) return;
    viewer.node = node;
    channel.on('text', (text) => this.#onCascadeText(node, text));
    this.#tellController(node);
  }

  /** Cluster: the home admitted this participant (its ticket, its seat) to watch through `node`. */
  admitRemote(participantId: string, node: string): void {
    if (this.#closed) return;
    this.#remote.set(participantId, node);
    this.#tellController(node);
  }

  /** Disconnect one viewer (left the conference, lost the right to watch…). */
  detachViewer(participantId: string, reason = 'detached'): void {
    const node = this.#remote.get(participantId);
    if (node !== undefined) {
      this.#remote.delete(participantId);
      const c = this.#viewers.get(CASCADE_PREFIX + node);
      c?.channel.sendText?.(JSON.stringify({ type: 'detach', participantId } satisfies CascadeDown));
      if (participantId === this.#controllerId) this.#releaseHeld();
      this.#tellController(node);
    }
    const viewer = this.#viewers.get(participantId);
    if (!viewer) return;
    this.#forget(viewer);
    this.#drop(viewer.channel, 1000, reason);
  }

  /** Who may send input (decided by the Focus). Whatever the previous controller held down is released. */
  setController(participantId: string | null): void {
    if (participantId === this.#controllerId) return;
    this.#releaseHeld();
    this.#controllerId = participantId;
    for (const v of this.#viewers.values()) if (v.node !== undefined) this.#tellController(v.node);
  }

  /** A cascade node learns whether the controller watches through it (it lets only that viewer's input up). */
  #tellController(node: string): void {
    const c = this.#viewers.get(CASCADE_PREFIX + node);
    const id = this.#controllerId !== null && this.#remote.get(this.#controllerId) === node ? this.#controllerId : null;
    if (!c || c.toldController === id) return;
    c.toldController = id;
    c.channel.sendText?.(JSON.stringify({ type: 'controller', participantId: id } satisfies CascadeDown));
  }

  #onCascadeText(node: string, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = null;
    }
    const m = msg as Partial<CascadeUp> | null;
    if (m?.type === 'left' && typeof m.participantId === 'string' && this.#remote.get(m.participantId) === node) {
      this.#remote.delete(m.participantId);
      if (m.participantId === this.#controllerId) this.#releaseHeld();
    }
  }

  /** Input from this viewer reaches the host: it is the controller, or the node the controller watches through. */
  #controls(viewer: ShareViewer): boolean {
    if (this.#controllerId === null || !this.#host) return false;
    return viewer.node === undefined ? viewer.participantId === this.#controllerId : this.#remote.get(this.#controllerId) === viewer.node;
  }

  /** Watch the host's accepted messages (until the returned function is called, or close()). */
  tap(tap: ShareTap): () => void {
    this.#taps.add(tap);
    // A recording holds tiles only: the host sends the ALT tiles under a video stream while one runs.
    this.#audienceChanged();
    return () => {
      this.#taps.delete(tap);
      this.#audienceChanged();
    };
  }

  /**
   * The current picture as messages that rebuild it from nothing: screen, the distinct tiles behind every
   * cell oldest first, the last frame, the cursor. Null while there is no whole picture to give: no frame
   * yet, a batch in progress, or a Copy tile among them (meaningless out of its stream; the host is asked
   * once for those cells as pixels, so a later call succeeds).
   */
  snapshot(): Uint8Array[] | null {
    const s = this.#store;
    if (!s.screenBytes || !s.lastFrame || s.pendingTiles > 0) return null;
    const tiles = s.tilesFor(s.filledCells());
    const copies = tiles.filter((e) => e.copy);
    if (copies.length > 0) {
      for (const e of copies) this.#askPixels(e);
      return null;
    }
    const out = [s.screenBytes, ...tiles.map((e) => e.bytes), s.lastFrame.bytes];
    if (s.cursorShape) out.push(s.cursorShape);
    if (s.cursorPos) out.push(s.cursorPos);
    return out;
  }

  stats(): AppShareStats {
    return {
      viewers: this.#viewers.size,
      bytesIn: this.#bytesIn,
      bytesOut: this.#counters.bytesOut,
      framesIn: this.#framesIn,
      inputForwarded: this.#inputForwarded,
      inputDropped: this.#inputDropped,
      clipboardForwarded: this.#clipboardForwarded,
      clipboardDropped: this.#clipboardDropped,
      tilesSkipped: this.#counters.tilesSkipped,
      hostUnacked: this.#hostPending.length,
      hostOverruns: this.#hostOverruns,
      refreshesAsked: this.#refreshesAsked,
      framesReplayed: this.#counters.framesReplayed,
      copiesIn: this.#copiesIn,
      storeBytes: this.#store.byteSize(),
      catchUps: [...this.#viewers.values()].filter((v) => v.catchingUp).length,
      videoUnitsIn: this.#videoUnitsIn,
      keyframesAsked: this.#keyframesAsked,
      videoViewers: [...this.#viewers.values()].filter((v) => v.video).length,
      cascades: [...this.#viewers.values()].filter((v) => v.node !== undefined).length,
      remoteViewers: this.#remote.size,
    };
  }

  /** End the share: closes the host and every viewer. Safe to call twice. */
  close(reason = 'the share has ended'): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#host) this.#drop(this.#host, 1000, reason);
    this.#host = null;
    for (const viewer of [...this.#viewers.values()]) {
      this.#forget(viewer);
      this.#drop(viewer.channel, 1000, reason);
    }
    this.#store.clear();
    this.#hostPending = [];
    this.#taps.clear();
    this.emit('closed');
    this.removeAllListeners();
  }

  // --- host side -----------------------------------------------------------------------------

  #onHostMessage(bytes: Uint8Array): void {
    const host = this.#host;
    if (!host) return;
    const msg = this.#decode(bytes, host, this.hostId, 'host');
    if (!msg) return;
    try {
      switch (msg.type) {
        case 'screen':
          this.#store.setScreen(msg, bytes);
          this.#tapped(msg, bytes);
          for (const v of this.#viewers.values()) v.screenChanged();
          return;
        case 'tile':
          this.#store.putTile(msg, bytes);
          if (msg.encoding === TileEncoding.Copy) this.#copiesIn++;
          // Recordings hold tiles only (the ALT tiles and the lossless top-off), never the stream.
          if (msg.encoding === TileEncoding.Video) this.#videoUnitsIn++;
          this.#tapped(msg, bytes);
          return;
        case 'frame':
          this.#onHostFrame(msg, bytes);
          return;
        case 'cursorShape':
          this.#store.cursorShape = compact(bytes);
          this.#tapped(msg, bytes);
          for (const v of this.#viewers.values()) v.cursorShapeChanged();
          return;
        case 'cursorPos':
          this.#store.cursorPos = compact(bytes);
          this.#tapped(msg, bytes);
          for (const v of this.#viewers.values()) v.cursorPosChanged();
          return;
        case 'clipboard':
        case 'clipboardRefused':
          this.#clipboardToController(bytes);
          return;
        default:
          this.#protocolError(host, this.hostId, 'host', `a host may not send '${msg.type}' frames`);
      }
    } catch (err) {
      if (!(err instanceof TileStoreError)) throw err;
      this.#protocolError(host, this.hostId, 'host', err.message);
    }
  }

  #onHostFrame(msg: Extract<ShareMessage, { type: 'frame' }>, bytes: Uint8Array): void {
    this.#framesIn++;
    const changed = this.#store.commit(msg, bytes);
    this.#tapped(msg, bytes);
    this.#hostPending.push({ seq: msg.seq, commit: this.#store.commits });
    if (this.#hostPending.length > this.#maxHostUnacked) {
      this.#hostOverruns++;
      if (this.#hostPending.length > Math.max(64, 16 * this.#maxHostUnacked)) {
        this.#protocolError(this.#host!, this.hostId, 'host', 'the host ignores flow control (too many unacknowledged frames)');
        return;
      }
    }
    const broken = this.#store.takeKeyframeWanted();
    if (broken) this.#askKeyframe(broken, true);
    for (const v of this.#viewers.values()) v.markDirty(changed);
    // With nobody watching, nobody can be behind: the host runs free.
    if (this.#viewers.size === 0) this.#ackHost(Infinity);
    for (const v of this.#viewers.values()) v.pump();
  }

  /** Some viewer was sent commit `upTo` (or passed over it): every host frame up to it is acked (one ack per frame, in order). */
  #ackHost(upTo: number): void {
    while (this.#hostPending.length > 0 && this.#hostPending[0]!.commit <= upTo) {
      const { seq } = this.#hostPending.shift()!;
      this.#sendTo(this.#host, encodeShareMessage({ type: 'ack', seq }));
    }
  }

  // --- viewer side -----------------------------------------------------------------------------

  #onViewerMessage(viewer: ShareViewer, bytes: Uint8Array): void {
    const msg = this.#decode(bytes, viewer.channel, viewer.participantId, 'viewer');
    if (!msg) return;
    if (msg.type === 'ack') {
      viewer.ack(msg.seq);
      this.#flush(viewer);
    } else if (msg.type === 'caps') {
      // A cascade node whose viewers want both gets both (the stream, and the ALT tiles under it).
      if (viewer.node !== undefined) viewer.keepAlt = msg.video && msg.tiles;
      viewer.video = msg.video;
      this.#audienceChanged();
      this.#flush(viewer);
    } else if (msg.type === 'refresh' && viewer.node !== undefined) {
      // A cascade node's store asks what its own viewers need: pixels for a Copy, or a keyframe.
      this.#cascadeRefresh(msg);
    } else if (isInputMessage(msg)) {
      if (!this.#controls(viewer)) {
        this.#inputDropped++;
        return;
      }
      this.#held.track(msg);
      this.#inputForwarded++;
      this.#sendTo(this.#host, bytes);
    } else if (msg.type === 'clipboard') {
      // Clipboard text reaches the host only from the controller, like input.
      if (!this.#controls(viewer)) {
        this.#clipboardDropped++;
        return;
      }
      this.#clipboardForwarded++;
      this.#sendTo(this.#host, bytes);
    } else {
      this.#protocolError(viewer.channel, viewer.participantId, 'viewer', `a viewer may not send '${msg.type}' frames`);
    }
  }

  /**
   * The host's clipboard goes to the controller's channel and nobody else's, whatever the host sends:
   * with several viewers (and a control that moves) the host cannot be trusted to know who is in
   * control right now, and another viewer must never see what was copied on the host.
   */
  #clipboardToController(bytes: Uint8Array): void {
    const ctrl = this.#controllerId;
    const node = ctrl === null ? undefined : this.#remote.get(ctrl);
    const to = ctrl === null ? undefined : (this.#viewers.get(ctrl) ?? (node !== undefined ? this.#viewers.get(CASCADE_PREFIX + node) : undefined));
    if (!to) {
      this.#clipboardDropped++;
      return;
    }
    this.#clipboardForwarded++;
    this.#sendTo(to.channel, bytes);
  }

  #flush(viewer: ShareViewer): void {
    if (this.#viewers.get(viewer.participantId) !== viewer) return;
    viewer.pump();
  }

  /** A viewer could not use a Copy tile: ask the host, once per tile, for those cells as pixels. */
  #askPixels = (entry: TileEntry): void => {
    if (entry.refreshAsked || !entry.copy) return;
    entry.refreshAsked = true;
    this.#refreshesAsked++;
    this.#sendTo(this.#host, encodeShareMessage({ type: 'refresh', ...entry.copy }));
  };

  /**
   * A node's `refresh`, limited as a viewer's own requests are (each answer is a region of whole tiles
   * that every viewer gets): pixels for the home's current Copy tile at that place, asked once per tile
   * whoever asks; a keyframe of the current stream, throttled; anything else is already answered (the
   * home holds newer tiles there, on their way to the node) and goes no further.
   */
  #cascadeRefresh(rect: { x: number; y: number; w: number; h: number }): void {
    const s = this.#store;
    const g = s.grid;
    if (!g) return;
    const cell = Math.floor(rect.y / g.tileSize) * g.cols + Math.floor(rect.x / g.tileSize);
    const e = s.entry(cell);
    if (e?.copy && e.copy.x === rect.x && e.copy.y === rect.y && e.copy.w === rect.w && e.copy.h === rect.h) {
      this.#askPixels(e);
      return;
    }
    const v = s.videoTrack?.rect;
    if (v && v.x === rect.x && v.y === rect.y && v.w === rect.w && v.h === rect.h) this.#askKeyframe(rect);
  }

  /**
   * The host learns what its audience can use whenever that changes: `video` when some viewer decodes
   * it (else it encodes none), `tiles` when some viewer does not, or a recorder listens (else it sends
   * no ALT tiles under the stream).
   */
  #audienceChanged(): void {
    if (this.#closed || !this.#host) return;
    const vs = [...this.#viewers.values()];
    // With nobody watching, what a host assumes by itself (tiles into the store, acked at once).
    // A tap that needs no tiles (the annotation board) only watches what viewers get: it is no audience.
    const tileTaps = [...this.#taps].filter((t) => t.needsTiles !== false).length;
    const caps: { video: boolean; tiles: boolean } = vs.length === 0 && tileTaps === 0 ? HOST_DEFAULT_CAPS : { video: vs.some((v) => v.video), tiles: vs.some((v) => !v.video || v.keepAlt) || tileTaps > 0 };
    if (this.#told.video === caps.video && this.#told.tiles === caps.tiles) return;
    this.#told = caps;
    this.#sendTo(this.#host, encodeShareMessage({ type: 'caps', ...caps }));
  }

  /** A keyframe over the stream's rectangle (a `refresh` of it): throttled, unless the track broke. */
  #askKeyframe(rect: { x: number; y: number; w: number; h: number }, now = false): void {
    const t = Date.now();
    if (!now && t - this.#lastKeyframeAsk < KEYFRAME_INTERVAL_MS) return;
    this.#lastKeyframeAsk = t;
    this.#keyframesAsked++;
    this.#sendTo(this.#host, encodeShareMessage({ type: 'refresh', ...rect }));
  }

  #forget(viewer: ShareViewer): void {
    if (this.#viewers.get(viewer.participantId) !== viewer) return;
    this.#viewers.delete(viewer.participantId);
    this.#audienceChanged();
    viewer.close();
    this.#detach.get(viewer.channel)?.();
    if (viewer.participantId === this.#controllerId) this.#releaseHeld();
    if (viewer.node !== undefined) {
      // The node's viewers are gone with it (they reconnect, and are admitted again).
      const ctrlThere = this.#controllerId !== null && this.#remote.get(this.#controllerId) === viewer.node;
      for (const [p, n] of [...this.#remote]) if (n === viewer.node) this.#remote.delete(p);
      if (ctrlThere) this.#releaseHeld();
    }
    // The last viewer leaving must not leave the host waiting for acks nobody will cause.
    if (this.#viewers.size === 0) this.#ackHost(Infinity);
    if (!this.#closed) this.emit('viewerGone', viewer.participantId);
  }

  #releaseHeld(): void {
    for (const m of this.#held.releaseAll()) this.#sendTo(this.#host, encodeShareMessage(m));
  }

  // --- plumbing --------------------------------------------------------------------------------

  #listen(channel: ShareChannel, onMessage: (bytes: Uint8Array) => void, onClose: (code: number, reason: string) => void): void {
    const message = (bytes: Uint8Array): void => {
      this.#bytesIn += bytes.byteLength;
      onMessage(bytes);
    };
    const close = (code: number, reason: string): void => {
      this.#detach.get(channel)?.();
      onClose(code, reason);
    };
    channel.on('message', message);
    channel.on('close', close);
    this.#detach.set(channel, () => {
      this.#detach.delete(channel);
      channel.off('message', message);
      channel.off('close', close);
    });
  }

  /** Stop listening to a channel and close it. */
  #drop(channel: ShareChannel, code: number, reason: string): void {
    this.#detach.get(channel)?.();
    channel.close(code, reason);
  }

  #decode(bytes: Uint8Array, channel: ShareChannel, participantId: string, role: 'host' | 'viewer'): ShareMessage | null {
    try {
      return decodeShareMessage(bytes);
    } catch (err) {
      if (!(err instanceof ShareDecodeError)) throw err;
      this.#protocolError(channel, participantId, role, err.message);
      return null;
    }
  }

  #protocolError(channel: ShareChannel, participantId: string, role: 'host' | 'viewer', reason: string): void {
    this.emit('protocolError', { participantId, role, reason });
    channel.close(POLICY, reason);
  }

  #tapped(msg: ShareMessage, bytes: Uint8Array): void {
    const unit = msg.type === 'tile' && msg.encoding === TileEncoding.Video;
    for (const t of this.#taps) if (!unit || t.video === true) t.message(msg, bytes);
  }

  #sendTo(channel: ShareChannel | null, bytes: Uint8Array): void {
    if (!channel) return;
    this.#counters.bytesOut += bytes.byteLength;
    channel.send(bytes);
  }
}
