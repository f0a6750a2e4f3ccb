/**
 * `baton-agent share`: joins the meeting on the conference socket with the one-time token, starts
 * an agent share, opens the binary sharing socket with a ticket and streams the screen through a
 * ShareSession. It answers control requests with the local ConsentPrompt, injects the controller's
 * input, and takes control back as soon as the host's own hand touches mouse or keyboard.
 *
 * With two parties the Focus may make the share peer-to-peer: SharePaths then streams the same
 * session over a direct DataChannel and keeps the sharing socket connected but idle, and moves it
 * back to the socket, once and for good, when the meeting escalates.
 */
import { CloseCode, SHARE_LIMITS, utf8Length, type Participant, type ServerMessage, type ShareSource, type ShareState } from '@baton/protocol';
import { TypedEmitter } from './TypedEmitter.js';
import { ConferenceClient, type ConferenceClientOptions } from './ConferenceClient.js';
import { ConsentPrompt, type ControlMode } from './ConsentPrompt.js';
import { ScreenCapture } from './ScreenCapture.js';
import { DEFAULT_TILE_SIZE, TileEncoder } from './TileEncoder.js';
import { CursorWatcher } from './CursorWatcher.js';
import { VideoLayer } from './VideoLayer.js';
import { InputInjector } from './InputInjector.js';
import { InjectionLog, type InputEventRecord } from './InjectionLog.js';
import { LocalInputMonitor } from './LocalInputMonitor.js';
import { HostClipboard } from './HostClipboard.js';
import { ShareSession, type PassStats, type ShareSessionEvents } from './ShareSession.js';
import type { ShareTransport } from './ShareTransport.js';
import { WebSocketTransport } from './WebSocketTransport.js';
import { SharePaths, type SharePathsOptions } from './p2p/SharePaths.js';
import { SourceList, describeArea, sourceIdOf, specOf } from './sources.js';
import { Indicator } from './Indicator.js';
import type { NodeDataChannelModule } from './p2p/PeerLink.js';

export type ShareClientOptions = {
  /** http(s)://host/m/<meetingId> (a path prefix before /m/ is kept). */
  meetingUrl: string;
  /** One-time agent token from the meeting page. */
  token: string;
  /** Monitor name or index; the whole screen when absent. */
  monitor?: string;
  /** One window to share instead: its id, title or `pick` (see WindowCapture). */
  window?: string;
  allowControl?: ControlMode;
  /**
   * The text clipboard with the controller: `to-host` (default) puts the controller's text on the
   * host's CLIPBOARD; `both` also sends what is copied on the host while someone is in control to
   * that controller alone; `off` does neither (the controller is told).
   */
  clipboard?: ClipboardMode;
  tileSize?: number;
  maxFps?: number;
  /** Send regions that move at video rates as H.264 to viewers that decode it (default true; needs node-av). */
  video?: boolean;
  /** X display; $DISPLAY by default. */
  display?: string;
  /** Decides control requests; built from `allowControl` when absent. */
  consent?: ConsentPrompt;
  /** Status lines for the host ("Alice is controlling your screen ..."). */
  log?: (line: string) => void;
  /** Opens the binary sharing channel; a WebSocket to `url` by default. */
  openTransport?: (url: string) => Promise<ShareTransport>;
  /** Reconnect attempts when the sharing socket drops while the meeting goes on. */
  maxReconnects?: number;
  conference?: Partial<ConferenceClientOptions>;
  /** Offer peer-to-peer sharing (hello caps.p2p) when node-datachannel loads. Default true. */
  p2p?: boolean;
  /** Show the always-on-top indicator window (the CLI does with --indicator; default false). */
  indicator?: boolean;
  /**
   * Apply `share.switch` from the host's own meeting pages (the server forwards it only from seats of
   * the sharing account). Default true.
   */
  pageSwitch?: boolean;
  /** Time limits and settling of the peer-to-peer paths (tests tune them). */
  paths?: Pick<SharePathsOptions, 'settleMs' | 'answerTimeoutMs' | 'connectTimeoutMs' | 'closeGraceMs' | 'retireTimeoutMs'>;
};

export type ShareClientEvents = {
  status: [string];
  /** Who controls the screen now (null: nobody). */
  controller: [Participant | null];
  /** The share was paused (true) or resumed. */
  paused: [boolean];
  /** Another source is shared now (its id). */
  source: [string];
  /** The state line changed: what is shared, by whom controlled, paused. */
  state: [string];
  frame: [PassStats];
  /** A video unit went out, encoded beside the passes (ShareSession's 'video'). */
  video: [ShareSessionEvents['video'][0]];
  /** Where the stream goes now: the server socket, the peer's DataChannel, or nowhere (nobody to serve). */
  path: ['server' | 'peer' | null];
  localInput: [InputEventRecord];
  /** Sharing ended (stop(), the server, or an error). */
  closed: [reason: string];
  error: [Error];
};

export const CLIPBOARD_MODES = ['off', 'to-host', 'both'] as const;
export type ClipboardMode = (typeof CLIPBOARD_MODES)[number];

export class MeetingUrlError extends Error {
  override name = 'MeetingUrlError';
}

/** ws(s) URLs of the conference and sharing sockets for a meeting URL. */
export function meetingEndpoints(meetingUrl: string): { meetingId: string; conferenceUrl: string; shareUrl: string } {
  let u: URL;
  try {
    u = new URL(meetingUrl);
  } catch {
    throw new MeetingUrlError(`not a URL: ${meetingUrl}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new MeetingUrlError(`meeting URL must be http(s): ${meetingUrl}`);
  const m = /^(.*)\/m\/([A-Za-z0-9_-]{1,64})\/?$/.exec(u.pathname);
  if (!m) throw new MeetingUrlError(`meeting URL must look like http(s)://host/m/<id>: ${meetingUrl}`);
  const base = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}${m[1]}`;
  return { meetingId: m[2]!, conferenceUrl: `${base}/ws/conference/${m[2]}`, shareUrl: `${base}/ws/share` };
}

export class ShareClient extends TypedEmitter<ShareClientEvents> {
  readonly conference: ConferenceClient;
  readonly capture: ScreenCapture;
  #o: ShareClientOptions;
  #shareUrl: string;
  #consent: ConsentPrompt;
  #encoder: TileEncoder;
  #cursor: CursorWatcher;
  #injector: InputInjector;
  #local: LocalInputMonitor;
  /** The host's CLIPBOARD (null with --clipboard off, or when it could not be opened). */
  #clipboard: HostClipboard | null;
  #session: ShareSession | null = null;
  readonly paths: SharePaths;
  #roster = new Map<string, Participant>();
  #controllerId: string | null = null;
  #share: ShareState | null = null;
  /** Set once the server has shown our share as the current one. */
  #active = false;
  #revoking = false;
  #paused = false;
  readonly sources: SourceList;
  readonly indicator: Indicator | null;
  #stopping: Promise<void> | null = null;
  #reconnects = 0;
  /** The server said it is restarting: the sockets' close is expected, and the share starts again once back. */
  #serverRestarting = false;

  private constructor(
    o: ShareClientOptions,
    shareUrl: string,
    parts: { conference: ConferenceClient; capture: ScreenCapture; cursor: CursorWatcher; injector: InputInjector; local: LocalInputMonitor; consent: ConsentPrompt; clipboard: HostClipboard | null; sources: SourceList; indicator: Indicator | null },
    ndc: NodeDataChannelModule | null,
  ) {
    super();
    this.#o = o;
    this.#shareUrl = shareUrl;
    this.conference = parts.conference;
    this.capture = parts.capture;
    this.#cursor = parts.cursor;
    this.#injector = parts.injector;
    this.#local = parts.local;
    this.#consent = parts.consent;
    this.#clipboard = parts.clipboard;
    this.sources = parts.sources;
    this.indicator = parts.indicator;
    this.#encoder = new TileEncoder({ tileSize: o.tileSize ?? DEFAULT_TILE_SIZE, video: o.video === false ? null : new VideoLayer({ log: o.log }) });
    for (const p of parts.conference.welcome.roster) this.#roster.set(p.id, p);
    this.paths = new SharePaths({
      ...o.paths,
      conference: parts.conference,
      ndc,
      refresh: () => this.#refresh(),
      controllerId: () => this.#controllerId,
      log: (line) => this.#status(line),
    });
    this.paths.on('path', (to) => this.emit('path', to));
  }

  /** Join, start sharing and stream until stop() or the meeting ends. */
  static async start(o: ShareClientOptions): Promise<ShareClient> {
    const { conferenceUrl, shareUrl } = meetingEndpoints(o.meetingUrl);
    const consent = o.consent ?? new ConsentPrompt({ mode: o.allowControl ?? 'ask' });
    const opened: Array<{ close(): unknown }> = [consent];
    const ndc = o.p2p === false ? null : await loadNodeDataChannel(o.log);
    try {
      // X first: failing to reach the display must not leave a half-started share in the meeting.
      const capture = await ScreenCapture.open({ display: o.display, monitor: o.monitor, window: o.window, log: o.log, tileSize: o.tileSize ?? DEFAULT_TILE_SIZE });
      opened.push(capture);
      const area = () => capture.area;
      const cursor = await CursorWatcher.open({ display: o.display, area });
      opened.push(cursor);
      const log = new InjectionLog();
      // The shared window of the moment (a switch may change it): raised before a click lands on it (on the dialog
      // under the click, when one of its dialogs is there).
      const injector = await InputInjector.open({ display: o.display, area, log, beforePress: async (at) => capture.window?.raise(at) });
      opened.push(injector);
      const local = await LocalInputMonitor.open({ display: o.display, log });
      opened.push(local);
      const clipboard = await openClipboard(o);
      if (clipboard) opened.push(clipboard);
      const sources = await SourceList.open({ display: o.display });
      opened.push(sources);
      let indicator: Indicator | null = null;
      if (o.indicator === true) {
        try {
          // Composite keeps every window's pixels, so viewers see what is under the indicator as it is now.
          // Without it they see that corner as it was when the indicator appeared (the mask).
          const composited = await capture.prepareExclusion().then(() => true, (err: Error) => {
            o.log?.(`The indicator's corner shows viewers the desktop as it is now only with the Composite extension (${err.message}).`);
            return false;
          });
          indicator = await Indicator.open({ display: o.display });
          opened.push(indicator);
          if (composited) await capture.exclude({ window: indicator.windowId, rect: indicator.rect, base: indicator.under });
          else capture.setMask({ rect: indicator.rect, pixels: indicator.under });
        } catch (err) {
          o.log?.(`No indicator window: ${(err as Error).message}`);
        }
      }
      const conference = await ConferenceClient.connect({ ...o.conference, url: conferenceUrl, agentToken: o.token, caps: { p2p: ndc !== null } });
      opened.push(conference);
      const client = new ShareClient(o, shareUrl, { conference, capture, cursor, injector, local, consent, clipboard, sources, indicator }, ndc);
      await client.#begin();
      return client;
    } catch (err) {
      for (const p of opened.reverse()) await Promise.resolve(p.close()).catch(() => undefined);
      throw err;
    }
  }

  get controllerId(): string | null {
    return this.#controllerId;
  }

  get session(): ShareSession | null {
    return this.#session;
  }

  async #begin(): Promise<void> {
    const c = this.conference;
    c.on('message', (m) => this.#onConference(m));
    c.on('close', (code, reason) => void this.#end(`the conference socket closed (${code}${reason ? `: ${reason}` : ''})`));
    // A dropped conference socket is resumed by the client; the sharing socket streams on meanwhile.
    c.on('reconnecting', (code) => {
      // 1012: the server restarts, or (cluster mode) the meeting moves to another node after its home
      // died. Either way the share is gone with the old Focus: start it again once back, as after a
      // server.shutdown notice (a crashed home sends none).
      if (code === CloseCode.ServiceRestart) this.#serverRestarting = true;
      this.#status(`Lost the connection to the meeting (${code}); reconnecting, the screen keeps streaming...`);
    });
    c.on('resumed', (welcome) => {
      this.#roster = new Map(welcome.roster.map((p) => [p.id, p]));
      this.#status('Reconnected to the meeting.');
      // A restarted server has no share: start it again before the sharing socket asks for a ticket
      // (same socket, so the server sees them in this order). Not a stop: share.updated follows.
      const restarted = this.#serverRestarting && welcome.share?.hostId !== welcome.self;
      this.#serverRestarting = false;
      this.#share = welcome.share;
      if (restarted) {
        this.#active = false;
        if (!this.#stopping) c.request({ type: 'share.start', kind: 'agent' }).catch((err: Error) => void this.#end(`cannot share again after the server restarted: ${err.message}`));
      } else this.#onShare(welcome.share);
      this.paths.update(welcome.share, this.#roster.values());
      this.#advertise();
      if (this.#paused) c.send({ type: 'share.pause', paused: true });
    });
    this.#local.on('localInput', (e) => this.#onLocalInput(e));
    this.#clipboard?.on('text', (text) => this.#hostCopied(text));
    this.#clipboard?.on('tooLarge', (size) => this.#hostCopiedTooMuch(size));
    this.#clipboard?.on('error', (err) => this.emit('error', err));
    this.capture.on('resize', (a) => this.#status(`Shared area is now ${a.width}x${a.height}.`));
    this.capture.on('gone', (why) => {
      this.#status(`Sharing ended: ${why}.`);
      void this.#end(why, true);
    });
    this.sources.on('changed', () => this.#advertise());
    this.indicator?.on('click', () => this.setPaused(!this.#paused));
    this.indicator?.on('error', (err) => this.emit('error', err));
    this.sources.on('error', (err) => this.emit('error', err));
    await c.request({ type: 'share.start', kind: 'agent' });
    await this.#openSession();
    const a = this.capture.area;
    this.#status(`Sharing ${describeArea(a)} (${a.width}x${a.height}) in meeting ${meetingEndpoints(this.#o.meetingUrl).meetingId}. Press Ctrl-C to stop.`);
    this.#advertise();
    this.#stateChanged();
  }

  /** The id of what is shared now (see sources.ts). */
  get currentSource(): string {
    return sourceIdOf(this.capture.area, this.capture.window?.info.id);
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** What the share looks like now, one line: "Sharing monitor DP-1 · controlled by Bob · paused". */
  get stateLine(): string {
    const who = this.#controllerId ? (this.#roster.get(this.#controllerId)?.name ?? 'someone') : null;
    return [`Sharing ${describeArea(this.capture.area)}`, ...(who ? [`controlled by ${who}`] : []), ...(this.#paused ? ['PAUSED'] : [])].join(' · ');
  }

  /** The sources to the server, which shows them on the host's own meeting pages only. */
  #advertise(): void {
    if (this.#stopping || this.conference.closed) return;
    this.conference.send({ type: 'share.sources', sources: this.sources.list, current: this.currentSource });
  }

  #stateChanged(): void {
    const line = this.stateLine;
    const who = this.#controllerId ? (this.#roster.get(this.#controllerId)?.name ?? 'someone') : null;
    void this.indicator?.setState(this.#paused ? { kind: 'paused' } : who ? { kind: 'controlled', by: who } : { kind: 'sharing' });
    this.emit('state', line);
    this.#status(`State: ${line}`);
  }

  /**
   * Share another source (an id from `sources.list`) without ending the share. Throws for an unknown id
   * or a source that is gone (the old one stays shared).
   */
  async switchSource(id: string, by = 'this terminal'): Promise<void> {
    const spec = specOf(id);
    if (!spec) throw new Error(`no source '${id}'`);
    if (id === this.currentSource) return;
    const session = this.#session;
    const change = () => this.capture.switchTo(spec);
    if (session) await session.switchSource(change);
    else await change();
    // The encoder's grid and the paths' replayed screen follow the first pass of the new source.
    const a = this.capture.area;
    this.#status(`Now sharing ${describeArea(a)} (${a.width}x${a.height}), switched from ${by}.`);
    this.emit('source', this.currentSource);
    this.#advertise();
    this.#stateChanged();
  }

  /** Freeze what viewers see (they are told "Paused by host"), or go on. Control input is ignored while paused. */
  setPaused(on: boolean): void {
    if (this.#paused === on || this.#stopping) return;
    this.#paused = on;
    if (this.#session) this.#session.paused = on;
    if (!this.conference.closed) this.conference.send({ type: 'share.pause', paused: on });
    this.emit('paused', on);
    this.#status(on ? 'Paused: viewers see the last picture until you resume.' : 'Resumed.');
    this.#stateChanged();
  }

  /** Pause or resume from the host's own meeting page (the server forwards it only from the host's account). */
  #onPauseRequest(paused: boolean, by: string): void {
    const who = this.#roster.get(by);
    if (this.#o.pageSwitch === false) {
      this.#status(`Your meeting page asked to ${paused ? 'pause' : 'resume'}; that is off (--no-page-switch).`);
      return;
    }
    if (paused === this.#paused) return;
    this.#status(`${paused ? 'Pause' : 'Resume'} from your meeting page${who?.user ? ` (account ${who.user})` : ''}.`);
    this.setPaused(paused);
  }

  async #onSwitchRequest(source: string, by: string): Promise<void> {
    const who = this.#roster.get(by);
    if (this.#o.pageSwitch === false) {
      this.#status(`Your meeting page (${who?.name ?? by}) asked to share ${source}; switching from the page is off (--no-page-switch).`);
      return;
    }
    try {
      await this.switchSource(source, `your meeting page${who?.user ? ` (account ${who.user})` : ''}`);
    } catch (err) {
      this.#status(`Cannot switch to ${source}: ${(err as Error).message}`);
      this.#advertise();
    }
  }

  async #openSession(): Promise<void> {
    await this.#conferenceUp();
    const ack = await this.conference.request({ type: 'share.ticket' });
    if (!ack.ticket) throw new Error('the server answered share.ticket without a ticket');
    const socket = await (this.#o.openTransport ?? WebSocketTransport.connect)(this.#shareUrl);
    if (this.#stopping) return void socket.close(1000, 'sharing stopped');
    const session = new ShareSession({
      // The session streams into a switch between this socket and a direct channel to a peer.
      transport: this.paths.attach(socket),
      ticket: ack.ticket,
      capture: this.capture,
      encoder: this.#encoder,
      cursor: this.#cursor,
      injector: this.#injector,
      maxFps: this.#o.maxFps,
    });
    session.controlEnabled = this.#controllerId !== null;
    session.paused = this.#paused;
    session.on('frame', (s) => {
      this.#reconnects = 0;
      this.paths.noteFrame(s);
      this.emit('frame', s);
    });
    session.on('video', (v) => this.emit('video', v));
    session.on('resynced', (r) => {
      if (!r) this.#status('The new path gets every cell encoded again (a video stream is under way, or BATON_TILE_CACHE=0).');
      else this.#status(`Sent the whole screen to the new path from the tile cache (${r.tiles} tiles, ${Math.round(r.bytes / 1024)} KiB in ${r.ms.toFixed(1)} ms; ${r.missingCells} cells to encode again).`);
    });
    session.on('error', (err) => this.emit('error', err));
    session.on('clipboard', (text, allowed) => void this.#controllerCopied(text, allowed));
    session.on('closed', (code, reason) => void this.#onSessionClosed(session, code, reason));
    this.#session = session;
    session.start();
  }

  /** Resolves when the conference socket has dropped and come back (the next 'resumed'); rejects if it gives up. */
  #conferenceBack(): Promise<void> {
    const c = this.conference;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        c.off('resumed', done);
        c.off('close', failed);
        resolve();
      };
      const failed = (code: number, reason: string): void => {
        c.off('resumed', done);
        c.off('close', failed);
        reject(new Error(`the conference socket closed (${code}${reason ? `: ${reason}` : ''})`));
      };
      c.on('resumed', done);
      c.on('close', failed);
    });
  }

  /** Resolves at once, or when a conference socket that is reconnecting is back (rejects if it gives up). */
  #conferenceUp(): Promise<void> {
    const c = this.conference;
    if (!c.resuming) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        c.off('resumed', done);
        c.off('close', failed);
        resolve();
      };
      const failed = (code: number, reason: string): void => {
        c.off('resumed', done);
        c.off('close', failed);
        reject(new Error(`the conference socket closed (${code}${reason ? `: ${reason}` : ''})`));
      };
      c.on('resumed', done);
      c.on('close', failed);
    });
  }

  async #onSessionClosed(session: ShareSession, code: number, reason: string): Promise<void> {
    if (this.#session !== session || this.#stopping) return;
    this.#session = null;
    const max = this.#o.maxReconnects ?? 5;
    if (this.conference.closed || this.#reconnects >= max) {
      return this.#end(`the sharing socket closed (${code}${reason ? `: ${reason}` : ''})`);
    }
    if (this.#serverRestarting) {
      // The conference socket goes down too: reopen once it is back (and the share restarted), not before.
      try {
        await this.#conferenceBack();
      } catch (err) {
        return this.#end((err as Error).message);
      }
      if (this.#stopping) return;
      return this.#openSession().catch((err: Error) => {
        this.emit('error', err);
        void this.#end(`cannot reopen the sharing socket: ${err.message}`);
      });
    }
    this.#reconnects++;
    this.#status(`The sharing socket closed (${code}${reason ? `: ${reason}` : ''}); reconnecting (${this.#reconnects}/${max})...`);
    await new Promise((r) => setTimeout(r, 500 * this.#reconnects));
    if (this.#stopping) return;
    try {
      await this.#openSession();
    } catch (err) {
      this.emit('error', err as Error);
      void this.#end(`cannot reopen the sharing socket: ${(err as Error).message}`);
    }
  }

  #onConference(m: ServerMessage): void {
    switch (m.type) {
      case 'participant.joined':
      case 'participant.updated':
        this.#roster.set(m.participant.id, m.participant);
        return this.paths.update(this.#share, this.#roster.values());
      case 'participant.left':
        this.#roster.delete(m.participantId);
        return this.paths.update(this.#share, this.#roster.values());
      case 'share.updated':
        this.#share = m.share;
        this.#onShare(m.share);
        return this.paths.update(m.share, this.#roster.values());
      case 'p2p.signal':
        return this.paths.onSignal(m.from, m.data);
      case 'control.requested':
        void this.#onControlRequest(m.participantId, m.name, m.user);
        return;
      case 'share.switch':
        void this.#onSwitchRequest(m.source, m.by);
        return;
      case 'share.setPaused':
        return this.#onPauseRequest(m.paused, m.by);
      case 'notice':
        this.#status(m.text);
        return;
      case 'server.shutdown':
        this.#serverRestarting = true;
        this.#status(`Server restarting (${m.reason}); reconnecting, the share resumes when it is back...`);
        return;
      default:
        return;
    }
  }

  #onShare(share: ShareState | null): void {
    if (!share || share.hostId !== this.conference.selfId) {
      // Only a share we saw running can be stopped; earlier state belongs to someone else.
      if (this.#active) void this.#end(share ? 'another participant took over sharing' : 'the share was stopped in the meeting');
      return;
    }
    this.#active = true;
    // A request the requester withdrew (cancelled, left) must not stay on the host's terminal: a
    // late "yes" there would be remembered for that participant's next request.
    for (const id of this.#consent.pendingIds()) if (!share.requests.includes(id)) this.#consent.withdraw(id);
    const next = share.controllerId;
    if (next === this.#controllerId) return;
    const prev = this.#controllerId;
    this.#controllerId = next;
    this.#revoking = false;
    // Whoever held keys or buttons must not leave them down for the next controller.
    if (prev !== null) void this.#injector.releaseAll().catch((err) => this.emit('error', err as Error));
    if (this.#session) this.#session.controlEnabled = next !== null;
    const who = next ? (this.#roster.get(next) ?? null) : null;
    this.emit('controller', who);
    if (next) this.#status(`${who?.name ?? 'Someone'} is controlling your screen — move your mouse or press a key to take control back.`);
    else if (prev) this.#status('Nobody controls your screen now.');
    this.#stateChanged();
  }

  async #onControlRequest(participantId: string, name: string, user: string | null): Promise<void> {
    let allowed = false;
    try {
      allowed = await this.#consent.decide({ participantId, name, user });
    } catch {
      allowed = false;
    }
    if (this.#stopping) return;
    this.conference.send({ type: allowed ? 'control.grant' : 'control.deny', participantId });
    if (!allowed) this.#status(`Control was not given to ${name}.`);
  }

  /** The stream moved to another path: that path needs the whole screen (screen, every tile, frame). */
  #refresh(): void {
    const session = this.#session;
    const screen = this.paths.pathSwitch?.screen;
    if (!session || !screen) return; // a session not started yet sends everything on its first pass
    session.flow.reset();
    // From the encoder's cache of what was sent, not a capture and encode of every cell (see resync()).
    session.resync();
  }

  get clipboardMode(): ClipboardMode {
    return this.#clipboard ? (this.#o.clipboard ?? 'to-host') : 'off';
  }

  /** The controller's text: onto the host's clipboard if the host allows it, else the controller is told. */
  async #controllerCopied(text: string, allowed: boolean): Promise<void> {
    // Only while someone holds control (the relay and the direct path only pass the controller's).
    if (!allowed || this.#controllerId === null) return;
    const who = this.#roster.get(this.#controllerId)?.name ?? 'The controller';
    if (!this.#clipboard) {
      this.#session?.sendClipboard({ type: 'clipboardRefused', reason: 'off', size: utf8Length(text) });
      this.#status(`${who} sent clipboard text; not taken (--clipboard off).`);
      return;
    }
    try {
      await this.#clipboard.setText(text);
      this.#status(`${who} put ${[...text].length} characters on your clipboard.`);
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** Copied on the host: to the controller alone, and only with --clipboard both and someone in control. */
  #hostCopied(text: string): void {
    if (this.#o.clipboard !== 'both' || this.#controllerId === null || !this.#session) return;
    this.#session.sendClipboard({ type: 'clipboard', text });
    this.#status(`Your clipboard (${[...text].length} characters) went to ${this.#roster.get(this.#controllerId)?.name ?? 'the controller'}.`);
  }

  #hostCopiedTooMuch(size: number): void {
    if (this.#o.clipboard !== 'both' || this.#controllerId === null || !this.#session) return;
    this.#session.sendClipboard({ type: 'clipboardRefused', reason: 'tooLarge', size });
    this.#status(`Your clipboard (${size} bytes) is over the ${Math.round(SHARE_LIMITS.maxClipboardBytes / 1024)} KiB limit: not sent.`);
  }

  #onLocalInput(e: InputEventRecord): void {
    this.emit('localInput', e);
    if (this.#controllerId === null || this.#revoking || this.#stopping) return;
    this.#revoking = true;
    // Stop injecting at once; the server confirms with share.updated.
    if (this.#session) this.#session.controlEnabled = false;
    void this.#injector.releaseAll().catch(() => undefined);
    this.conference.send({ type: 'control.revoke' });
    this.#status('You took control back.');
  }

  #status(line: string): void {
    this.emit('status', line);
    this.#o.log?.(line);
  }

  /** Stop sharing (share.stop), close every connection. Safe to call twice. */
  stop(reason = 'stopped by the host'): Promise<void> {
    return this.#end(reason, true);
  }

  #end(reason: string, tellServer = false): Promise<void> {
    this.#stopping ??= (async () => {
      if (tellServer && !this.conference.closed) {
        await this.conference.request({ type: 'share.stop' }).catch(() => undefined);
      }
      const session = this.#session;
      this.#session = null;
      this.paths.close();
      await session?.close(1000, reason).catch(() => undefined);
      this.conference.close(1000, reason);
      this.#consent.close();
      await this.#local.close().catch(() => undefined);
      await this.#clipboard?.close().catch(() => undefined);
      await this.#injector.close().catch(() => undefined);
      await this.#cursor.close().catch(() => undefined);
      await this.sources.close().catch(() => undefined);
      await this.indicator?.close().catch(() => undefined);
      await this.capture.close().catch(() => undefined);
      this.#encoder.video?.close();
      this.#status(`Sharing ended: ${reason}.`);
      this.emit('closed', reason);
    })();
    return this.#stopping;
  }
}

/** The host's clipboard for --clipboard to-host|both; without it (no XFixes…) the share goes on without a clipboard. */
async function openClipboard(o: ShareClientOptions): Promise<HostClipboard | null> {
  const mode = o.clipboard ?? 'to-host';
  if (mode === 'off') return null;
  try {
    return await HostClipboard.open({ display: o.display, watch: mode === 'both' });
  } catch (err) {
    o.log?.(`The clipboard is off: ${(err as Error).message}.`);
    return null;
  }
}

/** node-datachannel is a native module: without it the agent still shares, through the server only. */
async function loadNodeDataChannel(log?: (line: string) => void): Promise<NodeDataChannelModule | null> {
  try {
    const ndc = await import('node-datachannel');
    // BATON_P2P_LOG=Verbose|Debug|Info|Warning: libdatachannel's own log (ICE candidates, checks, DTLS) on
    // standard error, with the time, for diagnosing a direct path that does not come up.
    const level = process.env.BATON_P2P_LOG;
    if (level && ['Verbose', 'Debug', 'Info', 'Warning', 'Error'].includes(level)) {
      ndc.initLogger(level as 'Debug', (lvl, msg) => process.stderr.write(`${new Date().toISOString()} rtc ${lvl}: ${msg}\n`));
    }
    return ndc;
  } catch (err) {
    log?.(`Peer-to-peer sharing is off: node-datachannel did not load (${(err as Error).message}).`);
    return null;
  }
}
