/**
 * Builds the Baton server: the REST API, the conference WebSocket, the sharing WebSocket and the
 * built web client, all on one port. Ownership: the server owns the store, the focus registry and
 * the conferencing-server factory; close() shuts them down in order and is safe to call twice.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { WebSocketServer } from 'ws';
import { MAX_CONFERENCE_FRAME, SHARE_LIMITS, type ApiError, type IceServer } from '@baton/protocol';
import { TurnCredentials } from './conferencing/TurnCredentials.js';
import type { ServerConfig } from './config.js';
import { openStore, type KyselyStore } from './store/index.js';
import type { Store } from './store/Store.js';
import { AccountService } from './auth/AccountService.js';
import { SessionService } from './auth/SessionService.js';
import { FocusRegistry } from './focus/FocusRegistry.js';
import { FocusFactory } from './focus/FocusFactory.js';
import { ConferencingServerFactory } from './conferencing/ConferencingServerFactory.js';
import { BlobSweeper } from './data/BlobSweeper.js';
import { SqlBlobStore } from './data/SqlBlobStore.js';
import { StoreLease } from './data/StoreLease.js';
import { ConferenceConnection } from './gateway/ConferenceConnection.js';
import { acceptShareCascade, acceptShareSocket, toBytes } from './gateway/ShareConnection.js';
import { WsShareChannel } from './sharing/WsShareChannel.js';
import { BatonError, ForbiddenError, httpStatus } from './errors.js';
import { SESSION_COOKIE } from './http/common.js';
import { authRoutes } from './http/authRoutes.js';
import { conferenceRoutes } from './http/conferenceRoutes.js';
import { agentRoutes } from './http/agentRoutes.js';
import { AgentPackage, DEFAULT_AGENT_PACK_DIR } from './http/AgentPackage.js';
import { SAFE_METHODS, checkOrigin, ownOriginOf } from './http/origin.js';
import { securityHeaders, PERMISSIONS_POLICY } from './http/securityHeaders.js';
import { metricsRoute } from './http/metricsRoute.js';
import { slideRoutes } from './http/slideRoutes.js';
import { fileRoutes } from './http/fileRoutes.js';
import { healthRoutes } from './http/healthRoutes.js';
import { registerOpenApi } from './http/openapi.js';
import { ADMIN_API_FILE, adminRoutes } from './http/adminRoutes.js';
import { ServerMetrics } from './metrics/ServerMetrics.js';
import { loggerOptions } from './logging.js';
import { MailOutbox } from './mail/MailOutbox.js';
import { CalendarMail } from './schedule/CalendarMail.js';
import { scheduleRoutes } from './http/scheduleRoutes.js';
import { RecordingService } from './recording/RecordingService.js';
import { recordingRoutes } from './http/recordingRoutes.js';
import { ClusterNode } from './cluster/ClusterNode.js';
import { SocketRelay } from './cluster/SocketRelay.js';
import { clusterRoutes } from './http/clusterRoutes.js';
import { UploadRelay } from './http/UploadRelay.js';
import { NotHomeError } from './errors.js';
import { decodeShareMessage, CloseCode, SHARE_MIN_PROTOCOL_VERSION, SHARE_PROTOCOL_VERSION } from '@baton/protocol';

/** The largest frame a relayed conference socket takes from the home node (ws's own default is 100 MiB). */
const RELAYED_SERVER_FRAME = 64 * 1024 * 1024;

export interface BatonServer {
  app: FastifyInstance;
  store: Store;
  registry: FocusRegistry;
  /** Allocates sharing and audio servers; owns the supervised Janus (tests kill it through this). */
  conferencing: ConferencingServerFactory;
  /** Meeting recordings (files under <data-dir>/recordings). */
  recordings: RecordingService;
  /** Prometheus metrics (served at /metrics when a metrics token is configured). */
  metrics: ServerMetrics;
  /** Cluster mode: this node (null for a single node). */
  cluster: ClusterNode | null;
  /** Invitation mail queue; null without SMTP. */
  outbox: MailOutbox | null;
  config: ServerConfig;
  /** Every route registered, as Fastify's onRoute saw it (the OpenAPI test compares it with the document). */
  routes: RegisteredRoute[];
  /** The URL the server listens on (after listen()). */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document (schema.hide). */
  hidden: boolean;
  /** Why a hidden route is not documented (route config `undocumented`). */
  undocumented?: string;
}

/** How long a shutdown waits for clients to answer the close of their sockets. */
const SOCKET_CLOSE_WAIT_MS = 2000;
/**
 * How long a shutdown waits for HTTP requests under way (an upload, a download) before it cuts their
 * connections: a client that stalls mid-request must not keep the server from stopping.
 */
const HTTP_CLOSE_WAIT_MS = 10_000;

const CONFERENCE_PATH = /^\/ws\/conference\/([A-Za-z0-9_-]{1,64})$/;

export async function buildServer(config: ServerConfig): Promise<BatonServer> {
  const metrics = new ServerMetrics();
  // Every store call is timed into baton_store_seconds.
  const rawStore = await openStore(config.storeUrl);
  const store = metrics.timeStore(rawStore);
  await store.migrate();
  const app = Fastify({
    ...loggerOptions({ level: config.logLevel, stream: config.logStream }),
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
  });
  /** Set once close() starts: /readyz says 503 and new sockets are refused. */
  let shuttingDown = false;
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const undocumented = (r.config as { undocumented?: string } | undefined)?.undocumented;
    for (const method of [r.method].flat()) {
      routes.push({ method, url: r.url, hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true, ...(undocumented ? { undocumented } : {}) });
    }
  });
  const sessions = new SessionService(store);
  const accounts = new AccountService(store, { passwordPolicy: true });
  // Conversions left half done by a process that stopped: nothing in there is kept.
  rmSync(path.join(config.dataDir, 'slides-work'), { recursive: true, force: true });
  // Cluster mode: blob bytes in the shared PostgreSQL store, so every node serves them (decision 0008).
  const db = config.cluster ? (rawStore as KyselyStore).kysely : null;
  const shared = db && {
    files: new SqlBlobStore({ db, bucket: 'files' }),
    slides: new SqlBlobStore({ db, bucket: 'slides' }),
    recordings: new SqlBlobStore({ db, bucket: 'recordings' }),
  };
  const conferencing = new ConferencingServerFactory({
    log: app.log,
    audio: config.audio && { ...config.audio, dir: path.join(config.dataDir, 'janus') },
    sip: config.sip ?? null,
    files: { dir: path.join(config.dataDir, 'files'), maxFileBytes: config.maxFileBytes ?? 100e6, ...(shared ? { blobs: shared.files } : {}) },
    slides: { dir: path.join(config.dataDir, 'slides'), workDir: path.join(config.dataDir, 'slides-work'), ...(shared ? { blobs: shared.slides } : {}) },
  });
  // Shared files and slide decks are content-addressed; what no row names any more goes hourly.
  const blobSweeper = new BlobSweeper({
    store,
    shelves: [
      { blobs: conferencing.blobs, table: 'files' },
      { blobs: conferencing.slideBlobs, table: 'slide_decks' },
    ],
    // The shared blobs are swept by one node at a time; a killed sweeper's lease runs out in two hours.
    ...(config.cluster ? { lease: new StoreLease({ store, name: 'blob-sweep', holder: config.cluster.nodeId, ms: 2 * 3_600_000 }) } : {}),
    log: app.log,
  });
  blobSweeper.start();
  const turn = config.turn ? new TurnCredentials(config.turn) : null;
  // Only admitted participants are handed ICE servers (in welcome and ice.refresh), so TURN
  // credentials never reach someone waiting in the lobby.
  const iceServers = (participantId: string): IceServer[] => [
    ...(config.stunUrls.length ? [{ urls: config.stunUrls }] : []),
    ...(turn ? [(({ urls, username, credential }) => ({ urls, username, credential }))(turn.issue(participantId))] : []),
  ];
  const rec = config.recording ?? { maxBytes: 4096 * 1024 * 1024, retentionDays: null };
  const recordings = new RecordingService({ store, dir: path.join(config.dataDir, 'recordings'), ...rec, ...(shared ? { shared: shared.recordings } : {}), log: app.log });
  await recordings.init();
  // Cluster mode: join the other nodes before anything can start a Focus here.
  const cluster = config.cluster ? await ClusterNode.connect({ config: config.cluster, log: app.log.child({ part: 'cluster' }) }) : null;
  const registry = new FocusRegistry({ ...(cluster ? { cluster: { acquire: (id) => cluster.acquire(id), release: (id, e) => cluster.release(id, e), valid: () => cluster.valid(), ticketPrefix: cluster.id } } : {}), store, factory: conferencing, graceMs: config.reconnectGraceMs, ...(config.leaveGraceMs !== undefined ? { leaveGraceMs: config.leaveGraceMs } : {}), iceServers, log: app.log, recordings, onFocus: (f) => metrics.watchFocus(f) });
  metrics.watch({ registry, factory: conferencing });
  const factory = new FocusFactory(store, registry, cluster ? (change) => cluster.announce(change) : undefined);
  // Durable: mail queued while SMTP was down is sent after a restart.
  const outbox = config.smtp ? new MailOutbox({ smtpUrl: config.smtp.url, from: config.smtp.from, store, log: app.log.child({ part: 'mail' }) }) : null;
  await outbox?.start();
  const mail = new CalendarMail({ store, outbox, fromAddress: senderAddress(config), log: app.log });

  await app.register(fastifyCookie);
  // CSP, frame-ancestors, nosniff, Referrer-Policy, HSTS (https public URL only), …: http/securityHeaders.ts.
  await app.register(fastifyHelmet, securityHeaders(config));
  // Helmet has no Permissions-Policy; one fixed header.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('permissions-policy', PERMISSIONS_POLICY);
    // The id on this request's log lines, for a user's report or a proxy's log to point at.
    reply.header('x-request-id', req.id);
  });
  // Cross-site request forgery: every mutating request, with a body or without (signout), must come
  // from our own origin or from no browser at all (http/origin.ts).
  app.addHook('onRequest', async (req) => {
    if (SAFE_METHODS.has(req.method)) return;
    const verdict = checkOrigin(req.headers, ownOriginOf(req.raw, config.trustProxy), config);
    if (!verdict.ok) throw new ForbiddenError(verdict.reason);
  });
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/')) req.user = (await sessions.resolve(req.cookies[SESSION_COOKIE])) ?? null;
  });
  // Besides the Origin check: a browser only sends JSON cross-site after a CORS preflight, which
  // we never answer, so mutating API calls with a body must carry a JSON body type.
  app.addHook('preValidation', async (req) => {
    // An upload's body is the file; it carries no cookie authority (a single-use ticket instead).
    if (req.url.startsWith('/api/') && !['/api/files', '/api/slides'].includes(req.url.split('?')[0]!) && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const type = req.headers['content-type'] ?? '';
      if (req.headers['content-length'] && req.headers['content-length'] !== '0' && !type.startsWith('application/json')) {
        throw new BatonError('bad_request', 'send JSON (Content-Type: application/json)');
      }
    }
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof BatonError) {
      return reply.code(httpStatus(err.code)).send({ error: { code: err.code, message: err.message } } satisfies ApiError);
    }
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ error: { code: 'bad_request', message: e.message ?? 'bad request' } } satisfies ApiError);
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } } satisfies ApiError);
  });

  // Before every route: it collects them, and sets the zod validator they use.
  await registerOpenApi(app);
  authRoutes(app, { config, accounts, sessions });
  const agent = new AgentPackage({ dir: config.agentPackDir ?? DEFAULT_AGENT_PACK_DIR });
  conferenceRoutes(app, { config, store, factory, agent, mail });
  scheduleRoutes(app, { config, store, mail });
  agentRoutes(app, { agent });
  const uploadRelay = cluster ? new UploadRelay({
    async nodeOfTicket(t) {
      // Another node's ticket from a node this one has not heard of yet: look again before refusing.
      const prefix = t.slice(0, Math.max(0, t.indexOf('.')));
      if (!prefix || prefix === cluster.id || cluster.nodeOfTicket(t)) return cluster.nodeOfTicket(t);
      await cluster.nodes.refresh();
      return cluster.nodeOfTicket(t);
    },
  }) : undefined;
  fileRoutes(app, { registry, store, blobs: conferencing.blobs, ...(uploadRelay ? { relay: uploadRelay } : {}) });
  slideRoutes(app, { registry, store, blobs: conferencing.slideBlobs, ...(uploadRelay ? { relay: uploadRelay } : {}) });
  recordingRoutes(app, { store, recordings });
  metricsRoute(app, { token: config.metricsToken ?? null, metrics });
  // A fresh admin API token each start, handed to baton-admin through the data directory (http/adminRoutes.ts).
  const adminToken = randomBytes(32).toString('base64url');
  const adminFile = path.join(config.dataDir, ADMIN_API_FILE);
  adminRoutes(app, { token: adminToken, registry, ...(cluster ? { elsewhere: { end: (id: string) => cluster.endElsewhere(id), live: () => cluster.liveEverywhere() } } : {}) });
  if (cluster) clusterRoutes(app, { token: adminToken, cluster });
  healthRoutes(app, { store, conferences: () => registry.size, audio: () => conferencing.audioStatus, shuttingDown: () => shuttingDown });

  // The built web client; the SPA's own routes get index.html.
  const haveWeb = existsSync(path.join(config.webDir, 'index.html'));
  if (haveWeb) {
    await app.register(fastifyStatic, { root: config.webDir, prefix: '/', wildcard: false, index: ['index.html'] });
  } else {
    app.log.warn({ webDir: config.webDir }, 'web client not built: run `npm run build`');
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'GET' && haveWeb && !req.url.startsWith('/api/') && !req.url.startsWith('/ws/')) {
      return reply.type('text/html').sendFile('index.html');
    }
    return reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } } satisfies ApiError);
  });

  // WebSockets: our own upgrade handling, so each socket type gets its own frame limit.
  const conferenceWss = new WebSocketServer({ noServer: true, maxPayload: MAX_CONFERENCE_FRAME });
  const shareWss = new WebSocketServer({ noServer: true, maxPayload: SHARE_LIMITS.maxFrame, perMessageDeflate: false });
  app.server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    // Stopping: refuse at the door (clients retry, and find the next server), rather than let a join
    // meet the closed registry, whose answer (meeting ended) would stop a client from coming back.
    if (shuttingDown) return reject(503, 'Service Unavailable');
    // Cluster mode: a socket relayed by another node of the cluster already passed these checks there.
    const relayed = cluster?.relayedFrom(req) ?? null;
    // Cross-site WebSocket hijacking: a page from another origin (scheme, host and port) must not ride our cookie.
    if (!relayed && !checkOrigin(req.headers, ownOriginOf(req, config.trustProxy), config).ok) return reject(403, 'Forbidden');
    const address = relayed ? relayed.address : clientAddress(req, config.trustProxy);
    const m = CONFERENCE_PATH.exec(url.pathname);
    if (m) {
      const conferenceId = m[1]!;
      const cookies = app.parseCookie(req.headers.cookie ?? '');
      // Cluster mode: the socket goes to the conference's home node, through this one if need be.
      const exists = async () => (await store.getConference(conferenceId)) !== null;
      const route = cluster && !relayed
        ? cluster.route(conferenceId, exists)
        : Promise.resolve({ local: true as const });
      Promise.all([sessions.resolve(cookies[SESSION_COOKIE]), route])
        .then(([user, where]) => {
          conferenceWss.handleUpgrade(req, socket, head, (ws) => {
            const serveHere = () => new ConferenceConnection({ socket: ws, conferenceId, user: user ?? null, registry, store, address,
              log: app.log.child({ conference: conferenceId }), countBytes: metrics.countConferenceBytes });
            if (!where.local) {
              const relay = new SocketRelay({ client: ws, target: { node: where.node, url: `${where.url.replace(/^http/, 'ws')}${url.pathname}` }, headers: cluster!.relayHeaders(req, address),
                // What the home sends this client: a direct client takes any size, and a welcome carries the
                // whole roster and chat (past 16 KiB, the client-to-server limit, from ~100 seats on).
                maxPayload: RELAYED_SERVER_FRAME, log: app.log,
                // A home that just died still has its lease for a moment: hold the client until the conference has a new home.
                holdMs: 2 * config.cluster!.leaseTtlMs + 2000,
                retarget: async () => {
                  await cluster!.nodes.refresh();
                  const r = await cluster!.route(conferenceId, exists);
                  return r.local ? { local: true } : { node: r.node, url: `${r.url.replace(/^http/, 'ws')}${url.pathname}` };
                },
                onLocal: (pending) => {
                  serveHere();
                  for (const m of pending) ws.emit('message', m.data, m.binary);
                },
              });
              cluster!.trackRelay(conferenceId, relay);
              return;
            }
            serveHere();
          });
        })
        .catch((err) => {
          if (err instanceof NotHomeError) {
            // The home is between nodes: accept and say so, and the client reconnects in a moment.
            return conferenceWss.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.ServiceRestart, err.message.slice(0, 123)));
          }
          app.log.error({ err }, 'upgrade failed');
          reject(500, 'Internal Server Error');
        });
      return;
    }
    if (url.pathname === '/ws/share') {
      // Cluster mode: another node's cascade channel for a share homed here (its viewers were admitted here).
      const cascadeFrom = relayed && url.searchParams.has('cascade') ? cluster!.cascadeNodeOf(req) : null;
      shareWss.handleUpgrade(req, socket, head, (ws) => {
        if (cascadeFrom) return acceptShareCascade(ws, registry, { conferenceId: url.searchParams.get('cascade') ?? '', shareId: url.searchParams.get('share') ?? '', node: cascadeFrom }, app.log);
        if (!cluster || relayed) return acceptShareSocket(ws, registry, app.log);
        // Cluster mode: the auth frame's ticket names the node that issued it, the conference's home.
        ws.once('message', (data, isBinary) => {
          let home = null;
          let ticket = '';
          try {
            const msg = isBinary ? decodeShareMessage(toBytes(data)) : null;
            if (msg?.type === 'auth' && msg.version >= SHARE_MIN_PROTOCOL_VERSION && msg.version <= SHARE_PROTOCOL_VERSION) {
              home = cluster.nodeOfTicket(msg.ticket);
              ticket = msg.ticket;
            }
          } catch {
            /* the local path answers a bad frame */
          }
          const relayToHome = (pending: { data: typeof data; binary: boolean }[]) => {
            const relay = new SocketRelay({ client: ws, target: { node: home!.id, url: `${home!.url.replace(/^http/, 'ws')}/ws/share` }, headers: cluster.relayHeaders(req, address), pending,
              maxPayload: SHARE_LIMITS.maxFrame, onDownstreamBytes: (n) => cluster.countRelayed(n), log: app.log });
            cluster.trackRelay(null, relay);
          };
          // Without the cascade (--share-cascade off), every share socket goes to its home as it is.
          if (home && !config.cluster!.shareCascade) return relayToHome([{ data, binary: isBinary }]);
          if (!home) {
            acceptShareSocket(ws, registry, app.log);
            ws.emit('message', data, isBinary);
            return;
          }
          // The home redeems the ticket. Meanwhile what the client sends (a viewer's caps) is held.
          const held: { data: typeof data; binary: boolean }[] = [];
          const hold = (d: typeof data, binary: boolean) => void held.push({ data: d, binary });
          ws.on('message', hold);
          void cluster.admitShareViewer(home, ticket).then((a) => {
            ws.off('message', hold);
            if (ws.readyState !== ws.OPEN) return;
            if (a.kind === 'refused') return ws.close(a.code, a.reason.slice(0, 123));
            // The host's stream goes to its home as it is.
            if (a.kind === 'host') return relayToHome([{ data, binary: isBinary }, ...held]);
            // A viewer: fed by this node's cascade of the share (one stream from the home for all viewers here).
            const channel = new WsShareChannel(ws);
            cluster.cascade(home, a.conferenceId, a.shareId).attach(a.participantId, channel);
            for (const m of held) ws.emit('message', m.data, m.binary);
          });
        });
      });
      return;
    }
    reject(404, 'Not Found');
  });

  let closing: Promise<void> | null = null;
  const server: BatonServer = {
    app,
    store,
    registry,
    conferencing,
    recordings,
    metrics,
    cluster,
    outbox,
    config,
    routes,
    url: '',
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      server.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      try {
        mkdirSync(config.dataDir, { recursive: true });
        writeFileSync(adminFile, JSON.stringify({ url: server.url, token: adminToken, pid: process.pid }) + '\n', { mode: 0o600 });
      } catch (err) {
        app.log.warn({ err, file: adminFile }, 'cannot write the admin API file; baton-admin will not reach this server');
      }
      await cluster?.start(server.url, registry);
      return server.url;
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        await registry.close();
        // The recordings the conferences were writing are finished before the store closes.
        await recordings.close();
        await blobSweeper.close();
        conferencing.close();
        // Let the clients read server.shutdown and answer the close (a moment at most), then cut the rest.
        const open = [...conferenceWss.clients, ...shareWss.clients].filter((ws) => ws.readyState !== ws.CLOSED);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(open.map((ws) => new Promise((resolve) => ws.once('close', resolve)))),
          new Promise((resolve) => (timer = setTimeout(resolve, SOCKET_CLOSE_WAIT_MS))),
        ]);
        clearTimeout(timer);
        for (const ws of [...conferenceWss.clients, ...shareWss.clients]) ws.terminate();
        conferenceWss.close();
        shareWss.close();
        const httpClosed = app.close().then(() => true);
        let cut: NodeJS.Timeout | undefined;
        const done = await Promise.race([httpClosed, new Promise<false>((resolve) => (cut = setTimeout(() => resolve(false), HTTP_CLOSE_WAIT_MS)))]);
        clearTimeout(cut);
        if (!done) {
          app.log.warn('HTTP requests still under way after %d ms; cutting their connections', HTTP_CLOSE_WAIT_MS);
          app.server.closeAllConnections();
        }
        await httpClosed;
        await outbox?.close(); // before the store: it releases the mail it holds
        await cluster?.close();
        await store.close();
        // Only our own: a newer server on the same data directory may have written it since.
        try {
          if (readFileSync(adminFile, 'utf8').includes(adminToken)) rmSync(adminFile);
        } catch {
          /* not there */
        }
      })();
      return closing;
    },
  };
  return server;
}

/** The address in --smtp-from ("Baton <baton@example.org>"), else a no-reply one at our host: ORGANIZER of meetings whose organizer gave none. */
function senderAddress(config: ServerConfig): string {
  const from = config.smtp?.from;
  if (from) return /<([^>]+)>/.exec(from)?.[1] ?? from;
  return `noreply@${config.publicUrl ? new URL(config.publicUrl).hostname : 'localhost'}`;
}

/** The client's address as Fastify's `trustProxy: true` reads it: the first X-Forwarded-For hop, else the peer. */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0]!.trim() : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}
