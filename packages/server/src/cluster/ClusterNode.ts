/**
 * This process as one node of a Baton cluster (issue 16): its NATS connection, its lease
 * (NodeLease), the live nodes (NodeDirectory) and the conferences' homes (HomeDirectory). The
 * gateway asks it where a conference's sockets go (`route`); the focus registry asks it before it
 * runs a Focus (`acquire`) and whether it may still act (`valid`). close() cascades.
 *
 * Fencing: a Focus acts only while this node's lease is valid by the local clock; a conference
 * moves to another node only after the lease expired on the NATS server, which is later. When the
 * lease is found lost (or runs out because NATS cannot be reached), every Focus here is ended at
 * once without writing to the store, and its clients reconnect to the conference's new home.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { ClusterConfig } from '../config.js';
import { NotHomeError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { NodeLease } from './NodeLease.js';
import { NodeDirectory } from './NodeDirectory.js';
import { HomeDirectory, type Home } from './HomeDirectory.js';
import { ConferenceChange, NODE_HEADER, RELAY_ADDRESS_HEADER, RELAY_HEADER, ShareAdmission, ShareAdmitRequest, type NodeInfo } from './types.js';
import { ShareCascade } from './ShareCascade.js';

type Log = { info?(o: unknown, m?: string): void; warn(o: unknown, m?: string): void; error(o: unknown, m?: string): void };

/** What the node reads from the conferences it runs (the registry). */
export interface LocalConferences {
  /** Conference id to seats, for each live Focus here. */
  load(): Map<string, number>;
  /** End every Focus here at once, without store writes, telling clients to reconnect. */
  abandonAll(reason: string): void;
  /** End one Focus here the same way (it moved). */
  abandon(conferenceId: string, reason: string): void;
  /** A change made over REST on some node: reload or end the live Focus, if it runs here. */
  apply(change: ConferenceChange): void;
  /** An administrator ends a live conference (asked by another node); false when it is not live here. */
  endByAdministrator(conferenceId: string): Promise<boolean>;
  /** The live conferences here as an administrator sees them (sent as JSON to a node that asks). */
  summaries(): unknown[];
  /** Another node's viewer presents a share ticket this node issued: redeemed and checked here, the home. */
  admitRemoteViewer(ticket: string, node: string): Promise<ShareAdmission>;
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  log?: Log;
}

export type ClusterNodeEvents = {
  /** The lease was lost: every Focus here has been ended. */
  fenced: [];
};

export interface ClusterStatus {
  self: string;
  nodes: (NodeInfo & { conferenceIds: string[] })[];
  /** Homes recorded for nodes whose lease is gone (moved on the next join or the next sweep). */
  orphans: { conference: string; node: string }[];
}

export class ClusterNode extends TypedEmitter<ClusterNodeEvents> {
  readonly id: string;
  readonly #o: ClusterNodeOptions;
  readonly #nc: NatsConnection;
  readonly #homesKv: KV;
  readonly #nodesKv: KV;
  readonly #secret: string;
  readonly nodes: NodeDirectory;
  readonly homes: HomeDirectory;
  #lease: NodeLease | null = null;
  #local: LocalConferences | null = null;
  #url = '';
  #draining = false;
  #watchdog: NodeJS.Timeout | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #fenced = false;
  #startedAt = new Date().toISOString();
  #closing: Promise<void> | null = null;
  readonly #subject: string;

  private constructor(opts: ClusterNodeOptions, nc: NatsConnection, nodesKv: KV, homesKv: KV, secret: string) {
    super();
    this.#o = opts;
    this.id = opts.config.nodeId;
    this.#nc = nc;
    this.#nodesKv = nodesKv;
    this.#homesKv = homesKv;
    this.#secret = secret;
    this.#subject = `${opts.config.prefix}.conference.changed`;
    this.nodes = new NodeDirectory({ kv: nodesKv, intervalMs: this.#beatMs, log: opts.log });
    this.homes = new HomeDirectory({ kv: homesKv, nodes: this.nodes, log: opts.log });
  }

  /** Connects to NATS and opens (or creates) the cluster's buckets. */
  static async connect(opts: ClusterNodeOptions): Promise<ClusterNode> {
    const { config } = opts;
    const nc = await connect({ servers: config.natsUrl, name: `baton-${config.nodeId}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    try {
      const kvm = new Kvm(nc);
      // Leases expire; homes do not (a home is valid while its node's lease is).
      const nodesKv = await kvm.create(`${config.prefix}-nodes`, { ttl: config.leaseTtlMs, history: 1 });
      const homesKv = await kvm.create(`${config.prefix}-homes`, { history: 1 });
      // The secret that lets one node's relayed socket skip the browser checks on another (those ran
      // on the first node): made by the first node, read by the rest. Access to NATS is the trust boundary.
      await homesKv.create('cluster.secret', randomBytes(32).toString('base64url')).catch(() => {});
      const secret = (await homesKv.get('cluster.secret'))?.string();
      if (!secret) throw new Error('cannot read the cluster secret from NATS');
      return new ClusterNode(opts, nc, nodesKv, homesKv, secret);
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
  }

  get #beatMs(): number {
    return Math.max(100, Math.floor(this.#o.config.leaseTtlMs / 4));
  }

  /** The URL the other nodes use for this one. */
  get url(): string {
    return this.#url;
  }

  /** Starts the lease once the server listens (its URL is part of the lease). */
  async start(listenUrl: string, local: LocalConferences): Promise<void> {
    this.#url = this.#o.config.internalUrl ?? listenUrl;
    this.#local = local;
    await this.#readDrain();
    const lease = new NodeLease({ kv: this.#nodesKv, nodeId: this.id, ttlMs: this.#o.config.leaseTtlMs, info: () => this.#info(), log: this.#o.log });
    this.#lease = lease;
    lease.on('lost', () => this.#fence());
    lease.on('acquired', () => {
      this.#fenced = false;
    });
    await lease.start();
    await this.nodes.refresh();
    this.nodes.start();
    // The local clock says when the lease may have run out; act on it before anything else does.
    this.#watchdog = setInterval(() => {
      if (!lease.valid() && !this.#fenced && this.#local) this.#fence();
    }, 100);
    // One sweep at a time: a NATS that answers slowly must not pile sweeps up.
    let sweeping = false;
    this.#sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      void withTimeout(this.#sweep(), 4 * this.#beatMs, 'cluster sweep')
        .catch((err) => this.#o.log?.warn({ err: (err as Error).message }, 'cluster sweep failed'))
        .finally(() => (sweeping = false));
    }, this.#beatMs);
    // Requests for this node alone (an administrator's action on a conference it is home of).
    const own = this.#nc.subscribe(`${this.#o.config.prefix}.node.${this.id}.end`);
    void (async () => {
      for await (const m of own) {
        const ended = await local.endByAdministrator(m.string()).catch(() => false);
        m.respond(JSON.stringify({ ended }));
      }
    })();
    const live = this.#nc.subscribe(`${this.#o.config.prefix}.node.${this.id}.live`);
    void (async () => {
      for await (const m of live) m.respond(JSON.stringify(local.summaries()));
    })();
    // Share tickets this node issued, presented to another node by a viewer there (the cascade).
    const admit = this.#nc.subscribe(`${this.#o.config.prefix}.node.${this.id}.share.admit`);
    void (async () => {
      for await (const m of admit) {
        const req = ShareAdmitRequest.safeParse(safeJson(m.string()));
        const answer: ShareAdmission = !req.success
          ? { kind: 'refused', code: 4007, reason: 'bad admission request' }
          : await local.admitRemoteViewer(req.data.ticket, req.data.node).catch((err: Error) => ({ kind: 'refused' as const, code: 1011, reason: err.message.slice(0, 100) }));
        m.respond(JSON.stringify(answer));
      }
    })();
    const sub = this.#nc.subscribe(this.#subject);
    void (async () => {
      for await (const m of sub) {
        const change = ConferenceChange.safeParse(safeJson(m.string()));
        if (change.success) this.#local?.apply(change.data);
      }
    })();
  }

  #info(): NodeInfo {
    const load = this.#local?.load() ?? new Map();
    let seats = 0;
    for (const n of load.values()) seats += n;
    return { id: this.id, url: this.#url, load: seats + load.size, conferences: load.size, draining: this.#draining, startedAt: this.#startedAt };
  }

  /** May this node act for its conferences now? */
  valid(): boolean {
    return this.#lease?.valid() ?? false;
  }

  #fence(): void {
    if (this.#fenced) return;
    this.#fenced = true;
    this.#o.log?.warn({ node: this.id }, 'cluster lease not valid: ending every conference here (clients reconnect to their new home)');
    this.#local?.abandonAll('this server lost its place in the cluster; reconnecting');
    this.emit('fenced');
  }

  /**
   * Each heartbeat: a home whose node's lease is gone is moved (by one node, the first live one by
   * name, so that every orphan moves once); a conference running here whose entry no longer names
   * this node (it was moved while we were silent) is ended here.
   */
  async #sweep(): Promise<void> {
    if (!this.valid()) return;
    await this.#readDrain();
    const homes = await this.homes.all();
    const live = this.nodes.nodes();
    for (const r of [...this.#relays]) {
      // Moved means another node holds it now. No entry means it ended at its home, which closes the
      // socket itself with the reason (4004 for "ended for all"): closing it here first would tell the
      // client "reconnecting" instead, and its reconnect would start the ended meeting again.
      const home = r.conference !== null ? homes.get(r.conference) : undefined;
      const moved = home !== undefined && home.node !== r.relay.node;
      if (moved || !this.nodes.get(r.relay.node)) {
        this.#relays.delete(r);
        r.relay.close();
      }
    }
    for (const [conference] of this.#local?.load() ?? []) {
      const h = homes.get(conference);
      if (h && h.node !== this.id) this.#local?.abandon(conference, 'the meeting moved to another server; reconnecting');
    }
    if (live[0]?.id !== this.id) return;
    for (const [conference, h] of homes) {
      if (this.nodes.get(h.node) || (await this.#leaseHeld(h.node))) continue;
      await this.homes.resolve(conference).catch((err) => this.#o.log?.warn({ err: (err as Error).message, conference }, 'moving a conference failed'));
    }
  }

  async #leaseHeld(nodeId: string): Promise<boolean> {
    const e = await this.#nodesKv.get(`node.${nodeId}`);
    return !!e && e.operation === 'PUT';
  }

  /**
   * Where a conference socket goes: here, or relayed to its home. Places the conference when it has
   * no live home (only a conference in the store: an unknown id is left to the local path's 404).
   */
  async route(conferenceId: string, exists: () => Promise<boolean>): Promise<{ local: true } | { local: false; node: string; url: string }> {
    const recorded = await this.homes.lookup(conferenceId);
    if (!recorded && !(await exists())) return { local: true };
    let home: Home;
    if (recorded && recorded.node !== this.id && !this.nodes.get(recorded.node) && (await this.#leaseHeld(recorded.node))) {
      home = recorded; // a node that started after our last scan
      await this.nodes.refresh();
    } else {
      home = await this.homes.resolve(conferenceId);
    }
    if (home.node === this.id) return { local: true };
    const node = this.nodes.get(home.node);
    if (!node) throw new NotHomeError('the conference\'s home node is not reachable yet');
    return { local: false, node: node.id, url: node.url };
  }

  /** The node a sharing ticket (or upload ticket) was issued by: tickets are `<node>.<secret>`. */
  nodeOfTicket(ticket: string): NodeInfo | null {
    const dot = ticket.indexOf('.');
    if (dot <= 0) return null;
    const id = ticket.slice(0, dot);
    return id === this.id ? null : (this.nodes.get(id) ?? null);
  }

  /**
   * Before a Focus runs here: this node must be the conference's home (placing it here when it has
   * none), with a valid lease. Returns the fencing epoch.
   */
  async acquire(conferenceId: string): Promise<number> {
    if (!this.valid()) throw new NotHomeError('this server is not serving conferences right now');
    const home = await this.homes.resolve(conferenceId);
    if (home.node !== this.id) throw new NotHomeError('the meeting runs on another server');
    return home.epoch;
  }

  /** The Focus ended here: the next start places the conference afresh. */
  release(conferenceId: string, epoch: number): void {
    void this.homes.release(conferenceId, epoch);
  }

  /** A REST change to a conference, for its live Focus wherever it runs. */
  announce(change: ConferenceChange): void {
    if (!this.#closing) this.#nc.publish(this.#subject, JSON.stringify(change));
  }

  /** Ends a conference on its home node, wherever that is; false when it is not live. */
  async endElsewhere(conferenceId: string): Promise<boolean> {
    const home = await this.homes.lookup(conferenceId);
    if (!home || home.node === this.id || !this.nodes.get(home.node)) return false;
    try {
      const r = await this.#nc.request(`${this.#o.config.prefix}.node.${home.node}.end`, conferenceId, { timeout: 5000 });
      return (JSON.parse(r.string()) as { ended?: boolean }).ended === true;
    } catch {
      return false;
    }
  }

  /**
   * Every live node's conferences, for an administrator: this node's from memory, each other's by a
   * request over NATS (bounded: a node that does not answer in time is given as null, never waited for).
   */
  async liveEverywhere(): Promise<{ node: string; conferences: unknown }[]> {
    await withTimeout(this.nodes.refresh(), 5000, 'reading the node leases').catch(() => {});
    return Promise.all(
      this.nodes.nodes().map(async (n) => {
        if (n.id === this.id) return { node: n.id, conferences: this.#local?.summaries() ?? [] };
        try {
          const r = await this.#nc.request(`${this.#o.config.prefix}.node.${n.id}.live`, '', { timeout: 3000 });
          return { node: n.id, conferences: safeJson(r.string()) };
        } catch {
          return { node: n.id, conferences: null };
        }
      }),
    );
  }

  /** The headers of a relayed socket to the home node. */
  relayHeaders(req: IncomingMessage, address: string): Record<string, string> {
    const h: Record<string, string> = { [RELAY_HEADER]: this.#secret, [RELAY_ADDRESS_HEADER]: address };
    if (req.headers.cookie) h.cookie = req.headers.cookie;
    if (req.headers['user-agent']) h['user-agent'] = req.headers['user-agent'];
    return h;
  }

  /** A socket relayed by another node of this cluster (it ran the origin checks); its client's address. */
  relayedFrom(req: IncomingMessage): { address: string } | null {
    const s = req.headers[RELAY_HEADER];
    if (typeof s !== 'string' || s.length !== this.#secret.length) return null;
    const a = Buffer.from(s);
    const b = Buffer.from(this.#secret);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    if (diff !== 0) return null;
    return { address: String(req.headers[RELAY_ADDRESS_HEADER] ?? 'unknown') };
  }

  /**
   * A share socket here with a ticket of another node: that node (the home) redeems and checks the
   * ticket. Unreachable or silent: the client is told to reconnect (1012).
   */
  async admitShareViewer(home: NodeInfo, ticket: string): Promise<ShareAdmission> {
    try {
      const r = await this.#nc.request(`${this.#o.config.prefix}.node.${home.id}.share.admit`, JSON.stringify({ ticket, node: this.id } satisfies ShareAdmitRequest), { timeout: 5000 });
      const a = ShareAdmission.safeParse(safeJson(r.string()));
      if (a.success) return a.data;
    } catch {
      /* below */
    }
    return { kind: 'refused', code: 1012, reason: 'the meeting\'s server cannot be reached; reconnecting' };
  }

  readonly #cascades = new Map<string, ShareCascade>();

  /**
   * The cascade of a share homed on another node: one channel from the home per share, whatever the
   * number of viewers here (made by the first of them, closed after the last).
   */
  cascade(home: NodeInfo, conferenceId: string, shareId: string): ShareCascade {
    const key = `${conferenceId}/${shareId}`;
    const existing = this.#cascades.get(key);
    if (existing && !existing.closed) return existing;
    const url = `${home.url.replace(/^http/, 'ws')}/ws/share?cascade=${encodeURIComponent(conferenceId)}&share=${encodeURIComponent(shareId)}`;
    const headers = { [RELAY_HEADER]: this.#secret, [RELAY_ADDRESS_HEADER]: `node ${this.id}`, [NODE_HEADER]: this.id };
    const c = new ShareCascade({ conferenceId, shareId, home: { node: home.id, url }, headers, onDownstreamBytes: (n) => this.countRelayed(n), log: this.#o.log });
    this.#cascades.set(key, c);
    c.on('closed', () => {
      if (this.#cascades.get(key) === c) this.#cascades.delete(key);
    });
    this.trackRelay(conferenceId, c);
    return c;
  }

  /** The shares this node relays from their homes to its viewers. */
  cascades(): { conference: string; home: string; viewers: number; bytesFromHome: number; tilesSkipped: number }[] {
    return [...this.#cascades.values()].map((c) => {
      const s = c.stats();
      return { conference: c.conferenceId, home: c.node, viewers: s.viewers, bytesFromHome: s.bytesFromHome, tilesSkipped: s.tilesSkipped };
    });
  }

  /** The relaying node of a cascade channel (its headers carry the cluster secret). */
  cascadeNodeOf(req: IncomingMessage): string | null {
    if (!this.relayedFrom(req)) return null;
    const n = req.headers[NODE_HEADER];
    return typeof n === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(n) ? n : null;
  }

  #relayedBytes = 0;
  /** Sockets relayed from here to a home node: closed when that node is no longer the home. */
  readonly #relays = new Set<{ conference: string | null; relay: { node: string; close(): void; on(e: 'closed', l: () => void): unknown } }>();

  /**
   * A relayed socket to `node` for `conference` (null: a share socket, bound to the node only). When
   * the conference moves or the node's lease goes, the client is told to reconnect (1012) and finds
   * the new home: a home paused (SIGSTOP) keeps its TCP connections open, so nothing else would.
   */
  trackRelay(conference: string | null, relay: { node: string; close(): void; on(e: 'closed', l: () => void): unknown }): void {
    const entry = { conference, relay };
    this.#relays.add(entry);
    relay.on('closed', () => this.#relays.delete(entry));
  }

  /** Sharing bytes this node relayed from home nodes to its own clients (the cascade's measure). */
  countRelayed(n: number): void {
    this.#relayedBytes += n;
  }

  get relayedBytes(): number {
    return this.#relayedBytes;
  }

  /**
   * Drain a node (any node, by name): it keeps its live conferences but is given no new ones, so it
   * can be stopped for an upgrade once they end. Kept in the homes bucket, so it outlives a restart
   * of the node until undone; the node reads it each heartbeat and says so in its lease.
   */
  async setDrain(nodeId: string, draining: boolean): Promise<void> {
    if (draining) await this.#homesKv.put(`drain.${nodeId}`, new Date().toISOString());
    else await this.#homesKv.delete(`drain.${nodeId}`);
    if (nodeId === this.id) await this.#readDrain();
  }

  async #readDrain(): Promise<void> {
    const e = await this.#homesKv.get(`drain.${this.id}`);
    this.#draining = !!e && e.operation === 'PUT';
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** What the buckets say now (bounded: an administrator's request never hangs on a slow NATS). */
  status(): Promise<ClusterStatus> {
    return withTimeout(this.#status(), 10_000, 'reading the cluster state from NATS');
  }

  async #status(): Promise<ClusterStatus> {
    await this.nodes.refresh();
    const homes = await this.homes.all();
    const nodes = this.nodes.nodes().map((n) => ({ ...n, conferenceIds: [] as string[] }));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const orphans: ClusterStatus['orphans'] = [];
    for (const [conference, h] of [...homes].sort((a, b) => a[0].localeCompare(b[0]))) {
      const n = byId.get(h.node);
      if (n) n.conferenceIds.push(conference);
      else orphans.push({ conference, node: h.node });
    }
    return { self: this.id, nodes, orphans };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#watchdog) clearInterval(this.#watchdog);
      if (this.#sweeper) clearInterval(this.#sweeper);
      for (const r of this.#relays) r.relay.close();
      this.#relays.clear();
      this.nodes.close();
      await this.#lease?.close();
      await this.#nc.drain().catch(() => {});
    })();
    return this.#closing;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
