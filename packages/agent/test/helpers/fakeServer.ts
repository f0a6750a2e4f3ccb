/**
 * Test helper: a small stand-in for the Baton server, speaking the real protocols (JSON conference
 * socket validated with the protocol's zod schemas, binary sharing socket decoded with
 * decodeShareMessage). It reassembles what the agent shares into a Canvas, acks frames (or holds
 * the acks back), and lets a test play the server's side of control requests and input.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  SHARE_PROTOCOL_VERSION,
  decodeClientMessage,
  decodeShareMessage,
  encodeShareMessage,
  type ClientMessage,
  type Participant,
  type ServerMessage,
  type ShareMessage,
  type ShareState,
} from '@baton/protocol';
import { Canvas } from './canvas.js';

export const HOST: Participant = { id: 'p-host', name: 'Hosting Harry', role: 'organizer', user: 'harry', status: 'joined', connection: 'online', client: 'agent' };
export const ALICE: Participant = { id: 'p-alice', name: 'Alice', role: 'attendee', user: 'alice', status: 'joined', connection: 'online', client: 'web' };

export class FakeBatonServer {
  readonly token = 'agent-token-1';
  http: Server;
  url = '';
  conf: WebSocket | null = null;
  share: WebSocket | null = null;
  /** Every valid client message on the conference socket. */
  received: ClientMessage[] = [];
  /** Every message on the sharing socket, decoded. */
  shareMessages: ShareMessage[] = [];
  protocolErrors: string[] = [];
  canvas: Canvas | null = null;
  /** Per frame: tile messages, and grid cells they cover (a tile may cover a rectangle of cells). */
  frames: Array<{ seq: number; time: number; tiles: number; cells: number }> = [];
  autoAck = true;
  unacked: number[] = [];
  shareState: ShareState | null = null;
  tickets = new Set<string>();
  shareSockets = 0;
  #tilesInFrame = 0;
  #cellsInFrame = 0;
  #cellSize = 64;
  #apply: Promise<void> = Promise.resolve();
  #ticketN = 0;

  constructor() {
    this.http = createServer((_req, res) => res.writeHead(404).end());
    const confWss = new WebSocketServer({ noServer: true });
    const shareWss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/ws/conference/meet-1') confWss.handleUpgrade(req, socket, head, (ws) => this.#onConference(ws));
      else if (path === '/ws/share') shareWss.handleUpgrade(req, socket, head, (ws) => this.#onShare(ws));
      else socket.destroy();
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get meetingUrl(): string {
    return `${this.url}/m/meet-1`;
  }

  sendConference(msg: ServerMessage): void {
    this.conf?.send(JSON.stringify(msg));
  }

  sendShare(msg: ShareMessage): void {
    this.share?.send(encodeShareMessage(msg));
  }

  setShare(patch: Partial<ShareState> | null): void {
    this.shareState = patch === null ? null : { hostId: HOST.id, kind: 'agent', controllerId: null, requests: [], transport: 'server', ...this.shareState, ...patch };
    this.sendConference({ type: 'share.updated', share: this.shareState });
  }

  ackAll(): void {
    for (const seq of this.unacked.splice(0)) this.sendShare({ type: 'ack', seq });
  }

  /** All tiles received so far have been decoded into the canvas. */
  settled(): Promise<void> {
    return this.#apply;
  }

  async close(): Promise<void> {
    this.conf?.terminate();
    this.share?.terminate();
    await new Promise((r) => this.http.close(r));
  }

  #onConference(ws: WebSocket): void {
    this.conf = ws;
    ws.on('message', (data) => {
      const r = decodeClientMessage(data.toString());
      if (!r.ok) {
        this.protocolErrors.push(`conference: ${r.error}`);
        return;
      }
      const m = r.value;
      this.received.push(m);
      const ack = (extra: { ticket?: string } = {}) => this.sendConference({ type: 'ack', rid: m.rid, ...extra });
      switch (m.type) {
        case 'hello':
          if (m.v !== PROTOCOL_VERSION || m.client !== 'agent' || m.agentToken !== this.token) return ws.close(4003, 'bad hello');
          this.sendConference({
            type: 'welcome',
            v: PROTOCOL_VERSION,
            self: HOST.id,
            resumeToken: 'resume-1',
            conference: { id: 'meet-1', subject: 'Test meeting', policy: { guests: 'lobby', present: 'presenters', control: 'signed-in' }, organizer: 'harry' },
            roster: [HOST, ALICE],
            chat: [],
            share: null,
          });
          return;
        case 'share.start':
          ack();
          this.setShare({ controllerId: null });
          return;
        case 'share.ticket': {
          const ticket = `ticket-${++this.#ticketN}`;
          this.tickets.add(ticket);
          return ack({ ticket });
        }
        case 'share.stop':
          ack();
          this.setShare(null);
          return;
        case 'control.grant':
          ack();
          return this.setShare({ controllerId: m.participantId, requests: [] });
        case 'control.deny':
          ack();
          return this.setShare({ requests: [] });
        case 'control.revoke':
          ack();
          return this.setShare({ controllerId: null });
        default:
          ack();
      }
    });
  }

  #onShare(ws: WebSocket): void {
    this.shareSockets++;
    let authed = false;
    ws.on('message', (data: Buffer) => {
      let m: ShareMessage;
      try {
        m = decodeShareMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        this.protocolErrors.push(`share: ${(err as Error).message}`);
        return;
      }
      if (!authed) {
        if (m.type !== 'auth' || m.version !== SHARE_PROTOCOL_VERSION || !this.tickets.delete(m.ticket)) {
          this.protocolErrors.push('share: first frame is not a valid auth');
          return ws.close(4003, 'bad auth');
        }
        authed = true;
        this.share = ws;
        return;
      }
      this.shareMessages.push(m);
      if (m.type === 'screen') {
        this.canvas = new Canvas(m.width, m.height);
        this.#cellSize = m.tileSize;
      } else if (m.type === 'tile') {
        const canvas = this.canvas;
        if (!canvas) return void this.protocolErrors.push('share: tile before screen');
        this.#tilesInFrame++;
        this.#cellsInFrame += Math.ceil(m.w / this.#cellSize) * Math.ceil(m.h / this.#cellSize);
        this.#apply = this.#apply.then(() => canvas.apply(m)).catch((err) => void this.protocolErrors.push(`tile: ${(err as Error).message}`));
      } else if (m.type === 'frame') {
        const tiles = this.#tilesInFrame, cells = this.#cellsInFrame;
        this.#tilesInFrame = this.#cellsInFrame = 0;
        this.#apply = this.#apply.then(() => {
          this.frames.push({ seq: m.seq, time: m.time, tiles, cells });
          if (this.autoAck) this.sendShare({ type: 'ack', seq: m.seq });
          else this.unacked.push(m.seq);
        });
      }
    });
  }
}

export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}
