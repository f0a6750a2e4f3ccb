/**
 * ConferenceClient against a real WebSocket server (the `ws` package) that plays the server's side of
 * the protocol by hand, so that every transition of the state machine can be provoked on purpose.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, PROTOCOL_VERSION, type Participant, type ServerMessage } from '@baton/protocol';
import { ConferenceClient, type ConferenceState, type StorageLike, type WebSocketLike } from './ConferenceClient';

class Peer {
  readonly received: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(msg: ServerMessage): void {
    this.ws.send(JSON.stringify(msg));
  }
  async next(type: string): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.received.find((m) => m.type === type);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  closed(): Promise<{ code: number; reason: string }> {
    return new Promise((r) => this.ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
  }
}

class FakeServer {
  readonly wss: WebSocketServer;
  private peers: Peer[] = [];
  private waiters: (() => void)[] = [];
  accepted = 0;
  constructor() {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.wss.on('connection', (ws) => {
      this.accepted++;
      this.peers.push(new Peer(ws));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  get url(): string {
    const addr = this.wss.address();
    if (typeof addr === 'string' || !addr) throw new Error('no address');
    return `ws://127.0.0.1:${addr.port}/ws/conference/c1`;
  }
  async nextPeer(): Promise<Peer> {
    for (;;) {
      const p = this.peers.shift();
      if (p) return p;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

class MemoryStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

const conference = { id: 'c1', subject: 'Standup', organizer: 'olga', policy: { guests: 'lobby', present: 'presenters', control: 'signed-in' } } as const;
const person = (id: string, name: string, extra: Partial<Participant> = {}): Participant => ({
  id,
  name,
  role: 'attendee',
  user: null,
  status: 'joined',
  connection: 'online',
  client: 'web',
  ...extra,
});
const welcome = (self: string, token: string, roster: Participant[]): ServerMessage => ({
  type: 'welcome',
  v: PROTOCOL_VERSION,
  self,
  resumeToken: token,
  conference: { ...conference, policy: { ...conference.policy } },
  roster,
  chat: [],
  share: null,
  iceServers: [],
});

function until(client: ConferenceClient, pred: (c: ConferenceClient) => boolean, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred(client)) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; state=${client.state}`));
    }, ms);
    const off = client.on('change', () => {
      if (pred(client)) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

describe('ConferenceClient', () => {
  let server: FakeServer;
  let storage: MemoryStorage;
  let client: ConferenceClient | null = null;
  const make = (opts: { name?: string; url?: string; maxAttemptsWithoutSeat?: number; pingIntervalMs?: number } = {}) => {
    client = new ConferenceClient({
      url: opts.url ?? server.url,
      conferenceId: 'c1',
      name: opts.name,
      storage,
      createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
      backoff: { initialMs: 20, maxMs: 100 },
      maxAttemptsWithoutSeat: opts.maxAttemptsWithoutSeat ?? 4,
      pingIntervalMs: opts.pingIntervalMs,
    });
    return client;
  };

  beforeEach(async () => {
    server = new FakeServer();
    await new Promise((r) => server.wss.once('listening', r));
    storage = new MemoryStorage();
  });
  afterEach(async () => {
    client?.close();
    client = null;
    await server.close();
  });

  it('says hello, takes the welcome and keeps the resume token with the guest name', async () => {
    const c = make({ name: 'Gus' });
    const states: ConferenceState[] = [];
    c.on('state', (s) => states.push(s));
    c.connect();
    const peer = await server.nextPeer();
    const hello = await peer.next('hello');
    expect(hello).toEqual({ type: 'hello', v: PROTOCOL_VERSION, client: 'web', name: 'Gus' });
    peer.send(welcome('p2', 'tok-1', [person('p1', 'Olga', { role: 'organizer', user: 'olga' }), person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    expect(states).toEqual(['connecting', 'joined']);
    expect(c.self()?.name).toBe('Gus');
    expect(c.snapshot.roster.map((p) => p.name)).toEqual(['Olga', 'Gus']);
    expect(ConferenceClient.savedSeat(storage, 'c1')).toEqual({ token: 'tok-1', name: 'Gus' });
  });

  it("hands out the welcome's sharing ticket once, and only for the share it came with", async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    const share = { hostId: 'p3', kind: 'agent', controllerId: null, requests: [], transport: 'server' } as const;
    peer.send({ ...welcome('p2', 't', [person('p2', 'Gus'), person('p3', 'Ann')]), share, shareTicket: 'tk-1' } as ServerMessage);
    await until(c, (x) => x.state === 'joined');
    expect(c.takeShareTicket()).toBe('tk-1');
    expect(c.takeShareTicket()).toBeNull(); // single-use: the next connection asks
    // A welcome again (a reconnect) with a ticket, but by then someone else shares: not that ticket.
    peer.send({ ...welcome('p2', 't', [person('p2', 'Gus'), person('p3', 'Ann')]), share, shareTicket: 'tk-2' } as ServerMessage);
    await until(c, () => true);
    peer.send({ type: 'share.updated', share: { ...share, hostId: 'p2' } });
    await until(c, (x) => x.snapshot.share?.hostId === 'p2');
    expect(c.takeShareTicket()).toBeNull();
  });

  it('applies roster and chat events, and drops duplicate chat ids', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send(welcome('p2', 't', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    peer.send({ type: 'participant.joined', participant: person('p3', 'Ann') });
    peer.send({ type: 'participant.updated', participant: person('p3', 'Ann', { role: 'presenter', connection: 'reconnecting' }) });
    const msg = { id: 7, senderId: 'p3', senderName: 'Ann', senderUser: null, text: '<b>x</b>', at: new Date().toISOString() };
    peer.send({ type: 'chat.message', message: msg });
    peer.send({ type: 'chat.message', message: msg });
    peer.send({ type: 'share.updated', share: { hostId: 'p3', kind: 'agent', controllerId: null, requests: [], transport: 'server' } });
    await until(c, (x) => x.snapshot.share !== null);
    expect(c.snapshot.roster.find((p) => p.id === 'p3')).toMatchObject({ role: 'presenter', connection: 'reconnecting' });
    expect(c.snapshot.chat).toHaveLength(1);
    expect(c.snapshot.chat[0]!.text).toBe('<b>x</b>');
    peer.send({ type: 'participant.left', participantId: 'p3', reason: 'left' });
    await until(c, (x) => x.snapshot.roster.length === 1);
    expect(c.state).toBe('joined');
  });

  it('keeps the hand queue, says when a hand goes up, passes reactions on, and sends hand and private chat commands', async () => {
    const c = make({ name: 'Gus' });
    const raised: string[] = [];
    const reactions: string[] = [];
    c.on('handRaised', (h) => raised.push(h.name));
    c.on('reaction', (r) => reactions.push(`${r.name} ${r.emoji}`));
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    const ann = { person: 'p3', participantId: 'p3', name: 'Ann', at: new Date().toISOString() };
    peer.send({ ...welcome('p2', 't', [person('p2', 'Gus'), person('p3', 'Ann')]), hands: [ann] } as ServerMessage);
    await until(c, (x) => x.state === 'joined');
    expect(c.snapshot.hands.map((h) => h.name)).toEqual(['Ann']);
    const gus = { person: 'p2', participantId: 'p2', name: 'Gus', at: new Date().toISOString() };
    peer.send({ type: 'hands.updated', hands: [ann, gus] });
    await until(c, (x) => x.snapshot.hands.length === 2);
    // Only a hand raised while the page is here is news; one already in the welcome is not.
    expect(raised).toEqual(['Gus']);
    peer.send({ type: 'reaction', participantId: 'p3', name: 'Ann', emoji: '🎉' });
    peer.send({ type: 'hands.updated', hands: [gus] });
    await until(c, (x) => x.snapshot.hands.length === 1);
    expect(reactions).toEqual(['Ann 🎉']);
    c.raiseHand();
    expect(await peer.next('hand.raise')).toMatchObject({ type: 'hand.raise' });
    c.lowerHand('p3');
    expect(await peer.next('hand.lower')).toMatchObject({ participantId: 'p3' });
    c.react('👍');
    expect(await peer.next('reaction.send')).toMatchObject({ emoji: '👍' });
    c.sendChat('psst', 'p3');
    expect(await peer.next('chat.send')).toMatchObject({ text: 'psst', to: 'p3' });
  });

  it('sends commands with a rid and ties an error to the command that caused it', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send(welcome('p2', 't', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    expect(c.sendChat('hi')).toBe(true);
    const sent = await peer.next('chat.send');
    expect(sent).toMatchObject({ type: 'chat.send', text: 'hi' });
    expect(typeof sent.rid).toBe('string');
    peer.send({ type: 'error', rid: sent.rid as string, code: 'rate_limited', message: 'too many messages' });
    await until(c, (x) => x.snapshot.lastError !== null);
    expect(c.snapshot.lastError).toMatchObject({ code: 'rate_limited', command: 'chat.send' });

    // request() resolves with the ack that answers it.
    const pending = c.request({ type: 'share.ticket' });
    const ask = await peer.next('share.ticket');
    peer.send({ type: 'ack', rid: ask.rid as string, ticket: 'tick' });
    await expect(pending).resolves.toMatchObject({ type: 'ack', ticket: 'tick' });

    c.admit('p9');
    c.deny('p8');
    c.setRole('p7', 'presenter');
    c.remove('p6');
    c.updatePolicy({ guests: 'allow' });
    expect(await peer.next('lobby.admit')).toMatchObject({ participantId: 'p9' });
    expect(await peer.next('lobby.deny')).toMatchObject({ participantId: 'p8' });
    expect(await peer.next('role.set')).toMatchObject({ participantId: 'p7', role: 'presenter' });
    expect(await peer.next('participant.remove')).toMatchObject({ participantId: 'p6' });
    expect(await peer.next('policy.update')).toMatchObject({ policy: { guests: 'allow' } });
  });

  it('waits in the lobby, then joins when admitted', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send({ type: 'lobby.wait', self: 'p2', resumeToken: 'lob', conference: { ...conference, policy: { ...conference.policy } } });
    await until(c, (x) => x.state === 'lobby');
    expect(c.snapshot.conference?.subject).toBe('Standup');
    expect(ConferenceClient.savedSeat(storage, 'c1')?.token).toBe('lob');
    peer.send(welcome('p2', 'lob', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
  });

  it('reconnects after an unexpected drop and resumes the seat with the token', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const first = await server.nextPeer();
    await first.next('hello');
    first.send(welcome('p2', 'seat-tok', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');

    const seen: ConferenceState[] = [];
    c.on('state', (s) => seen.push(s));
    first.ws.terminate(); // no close frame: like a network drop
    const second = await server.nextPeer();
    const hello = await second.next('hello');
    expect(hello).toMatchObject({ resume: 'seat-tok', name: 'Gus' });
    second.send(welcome('p2', 'seat-tok-2', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    expect(seen).toEqual(['reconnecting', 'connecting', 'joined']);
    expect(c.snapshot.attempt).toBe(0);
    expect(ConferenceClient.savedSeat(storage, 'c1')?.token).toBe('seat-tok-2');
  });

  it('a reload (new client, same storage) resumes without being given the name again', async () => {
    storage.setItem('baton.seat.c1', JSON.stringify({ token: 'old', name: 'Gus' }));
    const c = make();
    c.connect();
    const peer = await server.nextPeer();
    expect(await peer.next('hello')).toMatchObject({ resume: 'old', name: 'Gus' });
    peer.send(welcome('p2', 'new', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    expect(ConferenceClient.savedSeat(storage, 'c1')).toEqual({ token: 'new', name: 'Gus' });
  });

  for (const [code, reason] of [
    [CloseCode.Removed, 'removed'],
    [CloseCode.Denied, 'denied'],
    [CloseCode.ConferenceEnded, 'ended'],
    [CloseCode.Replaced, 'replaced'],
    [CloseCode.UnsupportedVersion, 'unsupported_version'],
  ] as const) {
    it(`ends for good on close code ${code} (${reason}) and forgets the seat`, async () => {
      const c = make({ name: 'Gus' });
      c.connect();
      const peer = await server.nextPeer();
      await peer.next('hello');
      peer.send(welcome('p2', 't', [person('p2', 'Gus')]));
      await until(c, (x) => x.state === 'joined');
      peer.ws.close(code, 'bye');
      await until(c, (x) => x.state === 'closed');
      expect(c.snapshot.end).toMatchObject({ reason, code });
      expect(ConferenceClient.savedSeat(storage, 'c1')).toBeNull();
      await new Promise((r) => setTimeout(r, 150));
      expect(server.accepted).toBe(1); // no reconnection attempt
    });
  }

  it('shows why it waits again (lobby.wait note), and ends for good on conference.ended, naming who ended it', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send({ type: 'lobby.wait', self: 'p2', resumeToken: 'lob', conference: { ...conference, policy: { ...conference.policy } }, note: 'could not be restored' });
    await until(c, (x) => x.state === 'lobby');
    expect(c.snapshot.lobbyNote).toBe('could not be restored');
    peer.send(welcome('p2', 'lob', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    expect(c.snapshot.lobbyNote).toBeNull();
    peer.send({ type: 'conference.ended', by: 'p1', name: 'Olga' });
    peer.ws.close(CloseCode.ConferenceEnded, 'the organizer ended the meeting');
    await until(c, (x) => x.state === 'closed');
    expect(c.snapshot.end).toMatchObject({ reason: 'ended_for_all', message: 'Olga ended the meeting for everyone.' });
    expect(ConferenceClient.savedSeat(storage, 'c1')).toBeNull();
    await new Promise((r) => setTimeout(r, 150));
    expect(server.accepted).toBe(1);
  });

  it('treats its own participant.left (removed) as the end', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send(welcome('p2', 't', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    peer.send({ type: 'participant.left', participantId: 'p2', reason: 'removed' });
    await until(c, (x) => x.state === 'closed');
    expect(c.snapshot.end?.reason).toBe('removed');
  });

  it('close() leaves with 1000, once, and is safe to call twice', async () => {
    const c = make({ name: 'Gus' });
    c.connect();
    const peer = await server.nextPeer();
    await peer.next('hello');
    peer.send(welcome('p2', 't', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    const closed = peer.closed();
    c.close();
    c.close();
    expect((await closed).code).toBe(1000);
    expect(c.snapshot.end?.reason).toBe('left');
    expect(c.sendChat('after')).toBe(false);
  });

  it('replaces a socket whose pings go unanswered (half-open connection), keeping the seat', async () => {
    // The keep-alive tick is driven by hand (the timer is set far out), so that a busy machine answering a
    // ping late cannot pass for a dead socket: the test is about what one tick decides, not about timing.
    const c = make({ name: 'Gus', pingIntervalMs: 3_600_000 });
    const tick = () => (c as unknown as { keepAlive(): void }).keepAlive();
    const heardSincePing = () => !(c as unknown as { awaitingAnswer: boolean }).awaitingAnswer;
    c.connect();
    const first = await server.nextPeer();
    await first.next('hello');
    first.send(welcome('p2', 'tok', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');
    tick();
    await first.next('ping'); // never answered
    tick(); // the next tick finds it unanswered
    const second = await server.nextPeer();
    expect(await second.next('hello')).toMatchObject({ resume: 'tok' });
    second.send(welcome('p2', 'tok', [person('p2', 'Gus')]));
    await until(c, (x) => x.state === 'joined');

    // A socket that answers its pings is kept.
    for (let i = 0; i < 4; i++) {
      tick();
      const ping = await second.next('ping');
      second.send({ type: 'pong', rid: ping.rid as string | undefined });
      for (const end = Date.now() + 10_000; !heardSincePing(); ) {
        if (Date.now() > end) throw new Error('the pong never reached the client');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    tick();
    await second.next('ping');
    expect(server.accepted).toBe(2);
    expect(c.state).toBe('joined');
  });

  it('gives up when it never got a seat and the server stays unreachable', async () => {
    const addr = server.wss.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    await server.close();
    const c = make({ url: `ws://127.0.0.1:${port}/ws/conference/c1`, maxAttemptsWithoutSeat: 2 });
    const states: ConferenceState[] = [];
    c.on('state', (s) => states.push(s));
    c.connect();
    await until(c, (x) => x.state === 'closed', 5000);
    expect(c.snapshot.end?.reason).toBe('unreachable');
    expect(states.filter((s) => s === 'connecting')).toHaveLength(3);
    server = new FakeServer(); // for afterEach
    await new Promise((r) => server.wss.once('listening', r));
  });
});
