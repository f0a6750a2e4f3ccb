/**
 * Server configuration: command-line flags override environment variables, which override the
 * defaults. The defaults run out of the box: SQLite in ./data, port 8080.
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RECONNECT_GRACE_MS } from '@baton/protocol';

/** Dial-out to telephones over a SIP trunk (null: no trunk, no dial-out). Validated with zod. */
export const SipConfig = z.object({
  trunk: z.string().regex(/^sips?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, '--sip-trunk must look like sip:host or sip:host:port'),
  username: z.string().min(1).max(128).nullable(),
  password: z.string().min(1).max(256).nullable(),
  from: z.string().regex(/^sips?:[^\s<>"]+$/, '--sip-from must be a SIP URI, e.g. sip:baton@example.org').nullable(),
  /** How an E.164 number is sent: {number} is its digits without '+'. */
  numberFormat: z.string().regex(/^[0-9+*#]*\{number\}[0-9*#]*$/, "--sip-number-format must contain {number}, e.g. '+{number}' or '00{number}' or '9{number}'"),
  /** Local address for SIP and RTP; 0.0.0.0: the one that routes to the trunk. */
  address: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, '--sip-address must be an IPv4 address'),
  port: z.number().int().min(0).max(65535),
  noAnswerSeconds: z.number().int().min(5).max(300),
}).refine((c) => (c.username === null) === (c.password === null), '--sip-username and --sip-password go together');
export type SipConfig = z.infer<typeof SipConfig>;

/** Cluster mode (issue 16): several nodes on one PostgreSQL store, joined over NATS. */
export interface ClusterConfig {
  /** NATS server(s), e.g. nats://127.0.0.1:4222. */
  natsUrl: string;
  /** This node's name, unique in the cluster ([A-Za-z0-9_-], at most 32). */
  nodeId: string;
  /** Names the KV buckets and subjects, so several clusters can share one NATS (tests do). */
  prefix: string;
  /** The base URL other nodes reach this one at (relayed sockets); default the listen URL. */
  internalUrl: string | null;
  /** How long a node's lease lives without a heartbeat: the failover time. */
  leaseTtlMs: number;
  /**
   * A share homed on another node comes here once and is fanned out to this node's viewers (the
   * cascade). Off: each viewer's share socket is relayed to the home on its own (the reference the
   * fan-out bench compares with).
   */
  shareCascade: boolean;
}

export interface ServerConfig {
  /** Null: a single node (the default). */
  cluster?: ClusterConfig | null;
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<path>` or a `postgres://` URL. */
  storeUrl: string;
  /** Base of meeting URLs, e.g. https://meet.example.org; derived from the request when unset. */
  publicUrl: string | null;
  webDir: string;
  /** Where the packed agent (baton-agent.tgz) is; absent: packages/agent/dist-pack. */
  agentPackDir?: string;
  /** Whether anyone may create an account (otherwise only `baton-admin user add`). */
  signup: boolean;
  /** Cookies marked Secure: on by default when publicUrl is https. */
  secureCookies: boolean;
  trustProxy: boolean;
  logLevel: string;
  reconnectGraceMs: number;
  /** The short wait for a resume after a page said `leave` (a reload); default LEAVE_GRACE_MS (5 s). */
  leaveGraceMs?: number;
  /** TURN for participants behind NATs and firewalls; null: no TURN (direct and server paths only). */
  turn: { urls: string[]; secret: string; ttlSeconds: number } | null;
  /** STUN URLs handed to clients (no credentials). */
  stunUrls: string[];
  /**
   * Audio conferencing (Janus AudioBridge). auto: run Janus when it is installed, or use janusUrl;
   * off: no audio. Absent: off (embedding and tests opt in).
   */
  audio?: { mode: 'auto' | 'off'; janusUrl: string | null; janusSecret: string | null };
  /** Dial-out to telephones (docs/decisions/0003-sip-dial-out.md); null or absent: none. */
  sip?: SipConfig | null;
  /** How many conferences one user may organize at once (deleting one frees a place). */
  maxConferencesPerUser: number;
  /** Bearer token Prometheus sends to GET /metrics; null or absent: no /metrics at all. */
  metricsToken?: string | null;
  /**
   * Invitation mails through SMTP (nodemailer URL, e.g. smtp://user:pass@mail.example.org:587, and the
   * From: address); null or absent: no mail, invitations show on the dashboard only.
   */
  smtp?: { url: string; from: string } | null;
  /** Largest file a participant may share with a meeting, in bytes (absent: 100 MB). */
  maxFileBytes?: number;
  /** Recording: most bytes one recording may take; recordings older than retentionDays are deleted (null: kept). Absent: defaults. */
  recording?: { maxBytes: number; retentionDays: number | null; keyframeMinMs?: number; keyframeMaxMs?: number };
  /** Where the JSON log goes (tests and embedding); default stdout. */
  logStream?: { write(line: string): void };
}

export const DEFAULT_MAX_CONFERENCES_PER_USER = 200;
export const DEFAULT_MAX_FILE_MB = 100;

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_WEB_DIR = path.resolve(here, '../../web/dist');

export const CONFIG_HELP = `Usage: baton-server [options]

Options (environment variable in brackets):
  --host <addr>          listen address [BATON_HOST] (default 0.0.0.0)
  --port <n>             listen port [BATON_PORT] (default 8080; 0 picks a free port)
  --data-dir <dir>       where the SQLite file lives [BATON_DATA_DIR] (default ./data)
  --store <url>          sqlite:<file> or postgres://user@host/db [BATON_STORE]
                         (default sqlite:<data-dir>/baton.sqlite)
  --public-url <url>     base of meeting URLs, e.g. https://meet.example.org [BATON_PUBLIC_URL]
  --web-dir <dir>        built web client [BATON_WEB_DIR] (default packages/web/dist)
  --signup <open|closed> whether visitors may create accounts [BATON_SIGNUP] (default open)
  --secure-cookies <on|off>  Secure session cookies [BATON_SECURE_COOKIES] (default: on for https public URL)
  --trust-proxy          trust X-Forwarded-* from a reverse proxy [BATON_TRUST_PROXY=1]
  --log-level <level>    fatal|error|warn|info|debug [BATON_LOG_LEVEL] (default info)
  --turn-urls <list>     comma-separated TURN URLs, e.g. turn:turn.example.org:3478 [BATON_TURN_URLS]
  --turn-secret <s>      secret shared with coturn's static-auth-secret [BATON_TURN_SECRET]
  --turn-ttl <seconds>   lifetime of TURN credentials [BATON_TURN_TTL] (default 3600)
  --stun-urls <list>     comma-separated STUN URLs [BATON_STUN_URLS]
  --audio <auto|off>     audio conferencing [BATON_AUDIO] (default auto: run Janus when installed)
  --janus-url <url>      use this Janus WebSocket API, e.g. ws://127.0.0.1:8188, instead of running one [BATON_JANUS_URL]
  --janus-secret <s>     that Janus's api_secret [BATON_JANUS_SECRET]
  --sip-trunk <uri>      dial telephones through this SIP trunk, e.g. sip:trunk.example.org:5060 [BATON_SIP_TRUNK]
  --sip-username <u>     digest user name at the trunk [BATON_SIP_USERNAME]
  --sip-password <p>     digest password at the trunk [BATON_SIP_PASSWORD]
  --sip-from <uri>       our From, e.g. sip:+442079460000@trunk.example.org [BATON_SIP_FROM]
  --sip-number-format <f>  how numbers are dialled, {number} = E.164 digits [BATON_SIP_NUMBER_FORMAT] (default +{number})
  --sip-address <ip>     local address for SIP and RTP [BATON_SIP_ADDRESS] (default: the one that routes to the trunk)
  --sip-port <n>         local SIP port [BATON_SIP_PORT] (default 0: any free port)
  --sip-no-answer <s>    give up on a phone that rings this long [BATON_SIP_NO_ANSWER] (default 45)
  --max-conferences-per-user <n>  conferences one user may organize [BATON_MAX_CONFERENCES_PER_USER]
  --max-file-size <MB>   largest file shared with a meeting [BATON_MAX_FILE_SIZE] (default: 100)
                         (default ${DEFAULT_MAX_CONFERENCES_PER_USER})
  --metrics-token <t>    serve Prometheus metrics at /metrics to requests with
                         Authorization: Bearer <t> [BATON_METRICS_TOKEN] (default: no /metrics)
  --smtp-url <url>       send invitation mails through this SMTP server, e.g.
                         smtp://user:pass@mail.example.org:587 or smtps://…:465 [BATON_SMTP_URL]
  --smtp-from <addr>     From: of invitation mails, e.g. "Baton <baton@example.org>" [BATON_SMTP_FROM]
                         (default baton@<public URL's host>)
  --recording-max-mb <n> largest size of one recording in MiB [BATON_RECORDING_MAX_MB] (default 4096)
  --recording-retention-days <n>  delete recordings older than this [BATON_RECORDING_RETENTION_DAYS]
                         (default: keep them)
  --cluster <nats-url>   cluster mode: join the nodes on this NATS server, e.g. nats://127.0.0.1:4222
                         [BATON_CLUSTER] (needs a postgres:// --store; default: a single node)
  --node-id <id>         this node's name in the cluster [BATON_NODE_ID] (default: the host name)
  --cluster-prefix <p>   names of the cluster's NATS buckets and subjects [BATON_CLUSTER_PREFIX] (default baton)
  --cluster-url <url>    where the other nodes reach this one, e.g. http://10.0.0.5:8080
                         [BATON_CLUSTER_URL] (default: the listen address)
  --lease-seconds <n>    a silent node's conferences move after this long [BATON_LEASE_SECONDS] (default 5)
  --share-cascade <on|off>  a share of another node's meeting comes here once for all viewers here
                         [BATON_SHARE_CASCADE] (default on; off relays each viewer to the home)
  -h, --help             this help
`;

function bool(v: string | undefined, def: boolean): boolean {
  if (v === undefined || v === '') return def;
  return ['1', 'true', 'on', 'yes', 'open'].includes(v.toLowerCase());
}

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      store: { type: 'string' },
      'public-url': { type: 'string' },
      'web-dir': { type: 'string' },
      signup: { type: 'string' },
      'secure-cookies': { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      'log-level': { type: 'string' },
      'turn-urls': { type: 'string' },
      'turn-secret': { type: 'string' },
      'turn-ttl': { type: 'string' },
      'stun-urls': { type: 'string' },
      audio: { type: 'string' },
      'janus-url': { type: 'string' },
      'janus-secret': { type: 'string' },
      'max-conferences-per-user': { type: 'string' },
      'max-file-size': { type: 'string' },
      'sip-trunk': { type: 'string' },
      'sip-username': { type: 'string' },
      'sip-password': { type: 'string' },
      'sip-from': { type: 'string' },
      'sip-number-format': { type: 'string' },
      'sip-address': { type: 'string' },
      'sip-port': { type: 'string' },
      'sip-no-answer': { type: 'string' },
      'metrics-token': { type: 'string' },
      'smtp-url': { type: 'string' },
      'smtp-from': { type: 'string' },
      'recording-max-mb': { type: 'string' },
      'recording-retention-days': { type: 'string' },
      cluster: { type: 'string' },
      'node-id': { type: 'string' },
      'cluster-prefix': { type: 'string' },
      'cluster-url': { type: 'string' },
      'lease-seconds': { type: 'string' },
      'share-cascade': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const dataDir = path.resolve(values['data-dir'] ?? env.BATON_DATA_DIR ?? 'data');
  const port = Number(values.port ?? env.BATON_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${values.port ?? env.BATON_PORT}`);
  const publicUrl = (values['public-url'] ?? env.BATON_PUBLIC_URL ?? '').replace(/\/+$/, '') || null;
  if (publicUrl && !/^https?:\/\//.test(publicUrl)) throw new Error(`invalid public URL (needs http:// or https://): ${publicUrl}`);
  const storeUrl = values.store ?? env.BATON_STORE ?? `sqlite:${path.join(dataDir, 'baton.sqlite')}`;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(storeUrl)) throw new Error(`invalid store URL (sqlite:<file> or postgres://…): ${storeUrl}`);
  const signup = values.signup ?? env.BATON_SIGNUP ?? 'open';
  if (!['open', 'closed'].includes(signup)) throw new Error(`--signup must be open or closed, not ${signup}`);
  const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const turnUrls = list(values['turn-urls'] ?? env.BATON_TURN_URLS);
  const turnSecret = values['turn-secret'] ?? env.BATON_TURN_SECRET ?? '';
  if (turnUrls.length && !turnSecret) throw new Error('TURN URLs need --turn-secret (BATON_TURN_SECRET), shared with coturn');
  const turnTtl = Number(values['turn-ttl'] ?? env.BATON_TURN_TTL ?? 3600);
  if (!Number.isInteger(turnTtl) || turnTtl <= 0) throw new Error('--turn-ttl must be a positive number of seconds');
  const maxConferences = Number(values['max-conferences-per-user'] ?? env.BATON_MAX_CONFERENCES_PER_USER ?? DEFAULT_MAX_CONFERENCES_PER_USER);
  if (!Number.isInteger(maxConferences) || maxConferences < 1) throw new Error('--max-conferences-per-user must be a positive whole number');
  const audioMode = values.audio ?? env.BATON_AUDIO ?? 'auto';
  if (audioMode !== 'auto' && audioMode !== 'off') throw new Error(`--audio must be auto or off, not ${audioMode}`);
  const janusUrl = values['janus-url'] ?? env.BATON_JANUS_URL ?? null;
  if (janusUrl && !/^wss?:\/\/[^\s]+$/.test(janusUrl)) throw new Error(`invalid Janus URL (ws:// or wss://): ${janusUrl}`);
  const trunk = values['sip-trunk'] ?? env.BATON_SIP_TRUNK ?? '';
  let sip: SipConfig | null = null;
  if (trunk) {
    const parsed = SipConfig.safeParse({
      trunk,
      username: values['sip-username'] ?? env.BATON_SIP_USERNAME ?? null,
      password: values['sip-password'] ?? env.BATON_SIP_PASSWORD ?? null,
      from: values['sip-from'] ?? env.BATON_SIP_FROM ?? null,
      numberFormat: values['sip-number-format'] ?? env.BATON_SIP_NUMBER_FORMAT ?? '+{number}',
      address: values['sip-address'] ?? env.BATON_SIP_ADDRESS ?? '0.0.0.0',
      port: Number(values['sip-port'] ?? env.BATON_SIP_PORT ?? 0),
      noAnswerSeconds: Number(values['sip-no-answer'] ?? env.BATON_SIP_NO_ANSWER ?? 45),
    });
    if (!parsed.success) throw new Error(`SIP configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    sip = parsed.data;
  }
  const maxFileMb = Number(values['max-file-size'] ?? env.BATON_MAX_FILE_SIZE ?? DEFAULT_MAX_FILE_MB);
  if (!Number.isFinite(maxFileMb) || maxFileMb <= 0 || maxFileMb > 10_000) throw new Error('--max-file-size must be a number of megabytes between 0 and 10000');
  const metricsToken = values['metrics-token'] ?? env.BATON_METRICS_TOKEN ?? '';
  if (metricsToken && metricsToken.length < 16) throw new Error('--metrics-token must be at least 16 characters (it guards /metrics)');
  const smtpUrl = values['smtp-url'] ?? env.BATON_SMTP_URL ?? '';
  let smtp: ServerConfig['smtp'] = null;
  if (smtpUrl) {
    // Never echo the URL: it may carry the SMTP password.
    if (!/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) throw new Error('--smtp-url must look like smtp://host:587 or smtps://user:pass@host:465');
    const from = values['smtp-from'] ?? env.BATON_SMTP_FROM ?? (publicUrl ? `baton@${new URL(publicUrl).hostname}` : '');
    if (!from) throw new Error('--smtp-url needs --smtp-from (BATON_SMTP_FROM), e.g. "Baton <baton@example.org>", or a --public-url to derive it from');
    if (!/^([^<>]*<)?[^\s<>@]+@[^\s<>@]+>?$/.test(from.trim())) throw new Error(`--smtp-from is not an address: ${from}`);
    smtp = { url: smtpUrl, from: from.trim() };
  }
  const recMax = Number(values['recording-max-mb'] ?? env.BATON_RECORDING_MAX_MB ?? 4096);
  if (!Number.isFinite(recMax) || recMax <= 0) throw new Error('--recording-max-mb must be a positive number of MiB');
  const retention = values['recording-retention-days'] ?? env.BATON_RECORDING_RETENTION_DAYS ?? '';
  const retentionDays = retention === '' ? null : Number(retention);
  if (retentionDays !== null && (!Number.isFinite(retentionDays) || retentionDays <= 0)) throw new Error('--recording-retention-days must be a positive number of days');
  const cluster = clusterConfig(values, env, storeUrl);
  return {
    cluster,
    smtp,
    recording: { maxBytes: Math.floor(recMax * 1024 * 1024), retentionDays },
    metricsToken: metricsToken || null,
    sip,
    audio: { mode: audioMode, janusUrl, janusSecret: values['janus-secret'] ?? env.BATON_JANUS_SECRET ?? null },
    maxConferencesPerUser: maxConferences,
    maxFileBytes: Math.round(maxFileMb * 1e6),
    turn: turnUrls.length ? { urls: turnUrls, secret: turnSecret, ttlSeconds: turnTtl } : null,
    stunUrls: list(values['stun-urls'] ?? env.BATON_STUN_URLS),
    host: values.host ?? env.BATON_HOST ?? '0.0.0.0',
    port,
    dataDir,
    storeUrl,
    publicUrl,
    webDir: path.resolve(values['web-dir'] ?? env.BATON_WEB_DIR ?? DEFAULT_WEB_DIR),
    signup: signup === 'open',
    secureCookies: bool(values['secure-cookies'] ?? env.BATON_SECURE_COOKIES, publicUrl?.startsWith('https:') ?? false),
    trustProxy: values['trust-proxy'] ?? bool(env.BATON_TRUST_PROXY, false),
    logLevel: values['log-level'] ?? env.BATON_LOG_LEVEL ?? 'info',
    reconnectGraceMs: Number(env.BATON_RECONNECT_GRACE_MS ?? RECONNECT_GRACE_MS),
  };
}

function clusterConfig(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv, storeUrl: string): ClusterConfig | null {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const natsUrl = str('cluster') ?? env.BATON_CLUSTER ?? '';
  if (!natsUrl) return null;
  if (!/^(nats|tls):\/\/[^\s]+$/.test(natsUrl)) throw new Error(`invalid --cluster URL (nats://host:4222): ${natsUrl}`);
  // Every node must see the same conferences, chat and seats: only a shared store does that.
  if (!/^postgres(ql)?:\/\//.test(storeUrl)) throw new Error('--cluster needs a shared store: --store postgres://… (BATON_STORE)');
  const nodeId = str('node-id') ?? env.BATON_NODE_ID ?? hostname().split('.')[0]!.replace(/[^A-Za-z0-9_-]/g, '-');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(nodeId)) throw new Error(`--node-id must be 1-32 of A-Z a-z 0-9 _ -, not ${nodeId}`);
  const prefix = str('cluster-prefix') ?? env.BATON_CLUSTER_PREFIX ?? 'baton';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) throw new Error(`--cluster-prefix must be 1-32 of A-Z a-z 0-9 _ -, not ${prefix}`);
  const internalUrl = (str('cluster-url') ?? env.BATON_CLUSTER_URL ?? '').replace(/\/+$/, '') || null;
  if (internalUrl && !/^https?:\/\/[^\s/]+$/.test(internalUrl)) throw new Error(`--cluster-url must be http(s)://host:port, not ${internalUrl}`);
  const lease = Number(str('lease-seconds') ?? env.BATON_LEASE_SECONDS ?? 5);
  if (!Number.isFinite(lease) || lease < 1 || lease > 60) throw new Error('--lease-seconds must be between 1 and 60');
  const cascade = str('share-cascade') ?? env.BATON_SHARE_CASCADE ?? 'on';
  if (cascade !== 'on' && cascade !== 'off') throw new Error(`--share-cascade must be on or off, not ${cascade}`);
  return { natsUrl, nodeId, prefix, internalUrl, leaseTtlMs: Math.round(lease * 1000), shareCascade: cascade === 'on' };
}
