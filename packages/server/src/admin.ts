#!/usr/bin/env node
/**
 * baton-admin: manage users, groups, sessions and chat in a Baton store from the shell, and the
 * live conferences of the running server. Store commands open the same store as the server (same
 * URL rules), run pending migrations, do one thing and exit; live commands (conference list, end)
 * call the running server's /api/admin with the token it leaves in the data directory
 * (http/adminRoutes.ts). Exit: 0 on success, 1 when refused (unknown or taken name, server not
 * reachable), 2 on bad usage.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GroupName, Username, printable } from '@baton/protocol';
import { ADMIN_API_FILE, AdminApiFile, LiveConferences } from './http/adminRoutes.js';
import { ClusterView } from './http/clusterRoutes.js';
import { AccountService } from './auth/AccountService.js';
import { BadRequestError, BatonError } from './errors.js';
import { openStore } from './store/index.js';
import type { ChatRecord, Store, UserRecord } from './store/Store.js';

const HELP = `Usage: baton-admin [--store <url> | --data-dir <dir>] <command>

Commands:
  user add <username> [--password <pw> | --password-stdin] [--name <display name>] [--email <address>] [--admin]
                                         create a user (asks for the password on a terminal)
  user list                              list every user
  group add <name>                       create a distribution group
  group add-member <group> <username...> add users to a group; all or nothing: if any
                                         user does not exist, no one is added
  group remove-member <group> <username...>
                                         remove members from a group; all or nothing
  group list                             list groups with their member counts
  group show <name>                      list a group's members
  session list <username>                a user's signed-in sessions (browsers)
  session revoke <username> <id...> | --all
                                         sign a user out: the sessions named (ids from
                                         session list) or all of them
  chat export <meeting id> [--format json|text] [--private]
                                         a meeting's chat to standard output, oldest first;
                                         --private adds private messages (with both names)

Live commands (ask the running server; it must share this data directory):
  conference list                        the conferences live now, with who is in them (cluster: every node's, with its node)
  conference end <meeting id>            end a live conference for everyone in it
  node list                              cluster mode: the nodes, their load and conferences
  node drain <node id>                   cluster mode: place no new conference on that node
                                         (its live ones stay until they end)
  node undrain <node id>                 cluster mode: take new conferences again

Options:
  --store <url>      sqlite:<path>, sqlite::memory: or postgres://user@host/db
                     (default: env BATON_STORE, else sqlite:<data dir>/baton.sqlite)
  --data-dir <dir>   data directory (default: env BATON_DATA_DIR, else ./data)
  --password-stdin   read the password from standard input (safer than --password,
                     which other local users can see in the process list)
  --server <url>     live commands: the server's URL and its admin API token are read
                     from <data dir>/admin-api.json, which the server writes at start;
                     --server and env BATON_ADMIN_TOKEN name them yourself instead
  -h, --help         show this help

Exit status: 0 done, 1 refused (unknown or taken name, store error), 2 bad usage or input.
`;

const OPTIONS = {
  store: { type: 'string' },
  'data-dir': { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  name: { type: 'string' },
  email: { type: 'string' },
  admin: { type: 'boolean' },
  all: { type: 'boolean' },
  format: { type: 'string' },
  private: { type: 'boolean' },
  server: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: OptionName[] = ['store', 'data-dir', 'help'];

export interface AdminIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  env: Record<string, string | undefined>;
}

/** A mistake in the command line: reported with a pointer to --help, exit status 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

interface Command {
  args: string; // for messages
  options?: OptionName[];
  min: number;
  max: number;
  run?(store: Store, args: string[], values: Values, io: AdminIO): Promise<void>;
  /** A live command: talks to the running server instead of the store. */
  live?(server: AdminApiFile, args: string[], values: Values, io: AdminIO): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  'user add': { args: '<username> [--password <pw> | --password-stdin] [--name <display name>] [--email <address>] [--admin]', options: ['password', 'password-stdin', 'name', 'email', 'admin'], min: 1, max: 1, run: userAdd },
  'user list': { args: '', min: 0, max: 0, run: userList },
  'group add': { args: '<name>', min: 1, max: 1, run: groupAdd },
  'group add-member': { args: '<group> <username...>', min: 2, max: Infinity, run: groupAddMember },
  'group remove-member': { args: '<group> <username...>', min: 2, max: Infinity, run: groupRemoveMember },
  'group list': { args: '', min: 0, max: 0, run: groupList },
  'group show': { args: '<name>', min: 1, max: 1, run: groupShow },
  'session list': { args: '<username>', min: 1, max: 1, run: sessionList },
  'session revoke': { args: '<username> <id...> | --all', options: ['all'], min: 1, max: Infinity, run: sessionRevoke },
  'chat export': { args: '<meeting id> [--format json|text] [--private]', options: ['format', 'private'], min: 1, max: 1, run: chatExport },
  'conference list': { args: '', options: ['server'], min: 0, max: 0, live: conferenceList },
  'conference end': { args: '<meeting id>', options: ['server'], min: 1, max: 1, live: conferenceEnd },
  'node list': { args: '', options: ['server'], min: 0, max: 0, live: nodeList },
  'node drain': { args: '<node id>', options: ['server'], min: 1, max: 1, live: (s, a, _v, io) => nodeDrain(s, a, io, true) },
  'node undrain': { args: '<node id>', options: ['server'], min: 1, max: 1, live: (s, a, _v, io) => nodeDrain(s, a, io, false) },
};

export function storeUrl(values: { store?: string; 'data-dir'?: string }, env: Record<string, string | undefined>): string {
  if (values.store) return values.store;
  if (env.BATON_STORE) return env.BATON_STORE;
  const dataDir = values['data-dir'] || env.BATON_DATA_DIR || './data';
  return `sqlite:${join(dataDir, 'baton.sqlite')}`;
}

/** Runs one command line (without node and script) and returns the exit status. */
export async function runAdmin(argv: string[], io: AdminIO): Promise<number> {
  let store: Store | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
    }
    const { values, positionals } = parsed as { values: Values; positionals: string[] };
    if (values.help || positionals.length === 0 || positionals[0] === 'help') {
      (positionals.length === 0 && !values.help ? io.stderr : io.stdout).write(HELP);
      return values.help || positionals[0] === 'help' ? 0 : 2;
    }

    const key = positionals.slice(0, 2).join(' ');
    const cmd = COMMANDS[key];
    if (!cmd) {
      const group = positionals[0]!;
      const known = Object.keys(COMMANDS).filter((k) => k.startsWith(`${group} `));
      throw new UsageError(
        known.length > 0 ? `unknown command "${key}"; "${group}" has: ${known.map((k) => k.split(' ')[1]).join(', ')}` : `unknown command "${group}"`,
      );
    }
    const args = positionals.slice(2);
    if (args.length < cmd.min || args.length > cmd.max) throw new UsageError(`usage: baton-admin ${key} ${cmd.args}`.trimEnd());
    for (const name of Object.keys(values) as OptionName[]) {
      if (!GLOBAL_OPTIONS.includes(name) && !cmd.options?.includes(name)) throw new UsageError(`--${name} does not apply to "${key}"`);
    }

    if (cmd.live) {
      await cmd.live(adminApi(values, io.env), args, values, io);
      return 0;
    }
    store = await openStore(storeUrl(values, io.env));
    await store.migrate();
    await cmd.run!(store, args, values, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof BadRequestError) {
      io.stderr.write(`baton-admin: ${err.message}\nRun "baton-admin --help" for usage.\n`);
      return 2;
    }
    io.stderr.write(`baton-admin: ${err instanceof BatonError ? err.message : String((err as Error)?.message ?? err)}\n`);
    return 1;
  } finally {
    await store?.close();
  }
}

// ---- commands ----

async function userAdd(store: Store, [username]: string[], values: Values, io: AdminIO): Promise<void> {
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
  let password = values.password;
  if (values['password-stdin']) password = stripNewline(await readAll(io.stdin));
  else if (password === undefined) {
    if (!io.stdin.isTTY || !io.stdin.setRawMode) throw new UsageError('no password: give --password-stdin (or --password) when not on a terminal');
    password = await promptHidden('Password: ', io);
    if ((await promptHidden('Repeat password: ', io)) !== password) throw new UsageError('the passwords do not match');
  }
  const accounts = new AccountService(store);
  const user = await accounts.signUp({ username: username!, password, admin: values.admin ?? false, ...(values.name !== undefined && { displayName: values.name }), ...(values.email !== undefined && { email: values.email }) });
  io.stdout.write(`created user ${user.username} ("${printable(user.displayName)}")${user.admin ? ' with admin rights' : ''}\n`);
}

async function userList(store: Store, _args: string[], _values: Values, io: AdminIO): Promise<void> {
  const users = await store.listUsers();
  if (users.length === 0) {
    io.stdout.write('no users\n');
    return;
  }
  io.stdout.write(table(['USERNAME', 'DISPLAY NAME', 'ADMIN', 'CREATED'], users.map((u) => [u.username, printable(u.displayName), u.admin ? 'yes' : 'no', u.createdAt])));
}

async function groupAdd(store: Store, [name]: string[], _values: Values, io: AdminIO): Promise<void> {
  const group = groupName(name!);
  await store.createGroup(group);
  io.stdout.write(`created group ${group}\n`);
}

async function groupAddMember(store: Store, [name, ...names]: string[], _values: Values, io: AdminIO): Promise<void> {
  const group = groupName(name!);
  const usernames = names.map(normalizeUsername);
  const before = await members(store, group);
  // All or nothing (the store's transaction too): name every unknown user, add no one.
  const unknown: string[] = [];
  for (const u of new Set(usernames)) if (!(await store.getUserByUsername(u))) unknown.push(u);
  if (unknown.length > 0) {
    throw new BatonError(
      'not_found',
      `no such user${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; no one was added to ${group} (create ${unknown.length > 1 ? 'them' : 'it'} first with "baton-admin user add <username>")`,
    );
  }
  await store.addGroupMembers(group, usernames);
  const added = [...new Set(usernames)].filter((u) => !before.has(u));
  const already = usernames.filter((u) => before.has(u));
  io.stdout.write(`${added.length > 0 ? `added ${added.join(', ')} to ${group}` : `no one added to ${group}`}${already.length > 0 ? ` (already members: ${already.join(', ')})` : ''}\n`);
}

async function groupRemoveMember(store: Store, [name, ...names]: string[], _values: Values, io: AdminIO): Promise<void> {
  const group = groupName(name!);
  const usernames = [...new Set(names.map(normalizeUsername))];
  const before = await members(store, group);
  // All or nothing, like add-member: a typo should not leave a half-done change.
  const notMembers = usernames.filter((u) => !before.has(u));
  if (notMembers.length > 0) throw new BatonError('not_found', `not members of ${group}: ${notMembers.join(', ')} (no one removed)`);
  await store.removeGroupMembers(group, usernames);
  io.stdout.write(`removed ${usernames.join(', ')} from ${group}\n`);
}

async function groupList(store: Store, _args: string[], _values: Values, io: AdminIO): Promise<void> {
  const groups = await store.listGroups();
  if (groups.length === 0) {
    io.stdout.write('no groups\n');
    return;
  }
  const rows = [];
  for (const g of groups) rows.push([g.name, String((await store.getGroupMembers(g.name))?.length ?? 0), g.createdAt]);
  io.stdout.write(table(['GROUP', 'MEMBERS', 'CREATED'], rows));
}

async function groupShow(store: Store, [name]: string[], _values: Values, io: AdminIO): Promise<void> {
  const group = groupName(name!);
  const users = await store.getGroupMembers(group);
  if (!users) throw new BatonError('not_found', `no group "${group}"`);
  io.stdout.write(`group ${group}: ${users.length} member${users.length === 1 ? '' : 's'}\n`);
  if (users.length > 0) io.stdout.write(table(['USERNAME', 'DISPLAY NAME'], users.map((u: UserRecord) => [u.username, printable(u.displayName)])));
}

async function userOf(store: Store, raw: string): Promise<UserRecord> {
  const username = normalizeUsername(raw);
  const user = await store.getUserByUsername(username);
  if (!user) throw new BatonError('not_found', `no such user: ${username}`);
  return user;
}

/** A session's id for people: the start of the hash of its token (the token itself is never stored). */
const SESSION_ID_LENGTH = 12;

async function sessionList(store: Store, [username]: string[], _values: Values, io: AdminIO): Promise<void> {
  const user = await userOf(store, username!);
  const sessions = await store.listSessions(user.id, new Date());
  if (sessions.length === 0) {
    io.stdout.write(`${user.username} has no sessions\n`);
    return;
  }
  io.stdout.write(table(['SESSION', 'SIGNED IN', 'EXPIRES'], sessions.map((x) => [x.tokenHash.slice(0, SESSION_ID_LENGTH), x.createdAt, x.expiresAt])));
}

async function sessionRevoke(store: Store, [username, ...ids]: string[], values: Values, io: AdminIO): Promise<void> {
  if (values.all ? ids.length > 0 : ids.length === 0) throw new UsageError('name the sessions to revoke (ids from "session list") or give --all, not both');
  for (const id of ids) if (!/^[0-9a-f]{6,64}$/.test(id)) throw new UsageError(`"${printable(id)}" is not a session id (6 or more hex digits, from "session list")`);
  const user = await userOf(store, username!);
  if (!values.all) {
    // Every id must name exactly one of this user's sessions: a typo revokes nothing.
    const hashes = (await store.listSessions(user.id, new Date())).map((x) => x.tokenHash);
    const bad = ids.filter((id) => hashes.filter((h) => h.startsWith(id)).length !== 1);
    if (bad.length > 0) throw new BatonError('not_found', `no single session of ${user.username} starts with: ${bad.join(', ')} (none revoked)`);
  }
  const n = await store.deleteSessions(user.id, values.all ? null : ids);
  io.stdout.write(`revoked ${n} session${n === 1 ? '' : 's'} of ${user.username} (open meeting pages stay in their meeting until they reconnect)\n`);
}

async function chatExport(store: Store, [id]: string[], values: Values, io: AdminIO): Promise<void> {
  const format = values.format ?? 'text';
  if (format !== 'json' && format !== 'text') throw new UsageError('--format is json or text');
  const c = await store.getConference(id!);
  if (!c) throw new BatonError('not_found', `no such meeting: ${printable(id!)}`);
  const all = Number.MAX_SAFE_INTEGER;
  const messages = [...(await store.listChat(c.id, all)), ...(values.private ? await store.listPrivateChat(c.id, all) : [])].sort((a, b) => a.id - b.id);
  if (format === 'json') {
    const wire = (m: ChatRecord) => ({
      id: m.id,
      at: m.createdAt,
      from: m.senderName,
      user: m.senderUser,
      ...(m.private ? { to: m.private.recipientName, toUser: m.private.recipientUser } : {}),
      text: m.text,
    });
    const doc = { meeting: { id: c.id, subject: c.subject, organizer: c.organizerUsername }, exportedAt: new Date().toISOString(), messages: messages.map(wire) };
    io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  // Plain text for people: names shown safely, a message's further lines indented under it.
  const who = (name: string, user: string | null) => `${printable(name)}${user ? ` (${user})` : ' (guest)'}`;
  io.stdout.write(`Chat of "${printable(c.subject)}" (${c.id}), organized by ${c.organizerUsername}: ${messages.length} message${messages.length === 1 ? '' : 's'}\n`);
  for (const m of messages) {
    const to = m.private ? ` to ${who(m.private.recipientName, m.private.recipientUser)}, privately` : '';
    const lines = m.text.split('\n').map((l) => printable(l));
    io.stdout.write(`[${m.createdAt}] ${who(m.senderName, m.senderUser)}${to}: ${lines.join('\n    ')}\n`);
  }
}

// ---- live commands ----

function adminApi(values: Values, env: Record<string, string | undefined>): AdminApiFile {
  if (values.server) {
    const token = env.BATON_ADMIN_TOKEN;
    if (!token) throw new UsageError('with --server, give the admin API token in env BATON_ADMIN_TOKEN');
    return { url: values.server.replace(/\/+$/, ''), token, pid: 0 };
  }
  const file = join(values['data-dir'] || env.BATON_DATA_DIR || './data', ADMIN_API_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BatonError('not_found', code === 'ENOENT' ? `no running server found: ${file} is missing (the server writes it at start; give --data-dir, or --server with BATON_ADMIN_TOKEN)` : `cannot read ${file}: ${(err as Error).message} (run baton-admin as the server's user)`);
  }
  const r = AdminApiFile.safeParse(JSON.parse(text));
  if (!r.success) throw new BatonError('bad_request', `${file} is not what the server writes`);
  return r.data;
}

async function callServer(server: AdminApiFile, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${server.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new BatonError('not_found', `the server at ${server.url} does not answer (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is it running?`);
  }
  const text = await res.text();
  const answer = text ? (JSON.parse(text) as { error?: { message?: string } }) : null;
  if (!res.ok) throw new BatonError(res.status === 404 ? 'not_found' : 'forbidden', `the server said ${res.status}: ${answer?.error?.message ?? text}`);
  return answer;
}

async function conferenceList(server: AdminApiFile, _args: string[], _values: Values, io: AdminIO): Promise<void> {
  const { conferences, unreachable } = LiveConferences.parse(await callServer(server, 'GET', '/api/admin/conferences'));
  // Cluster mode: a node that did not answer is named, so an empty or short list is not taken as the whole truth.
  for (const n of unreachable ?? []) io.stderr.write(`node ${printable(n)} did not answer: its conferences are not listed\n`);
  if (conferences.length === 0) {
    io.stdout.write('no live conferences\n');
    return;
  }
  const cluster = unreachable !== undefined;
  io.stdout.write(
    table(
      ['MEETING', 'SUBJECT', 'ORGANIZER', 'PARTICIPANTS', 'LOBBY', 'SHARING', 'LIVE SINCE', ...(cluster ? ['NODE'] : [])],
      conferences.map((c) => [c.id, printable(c.subject), c.organizer, String(c.participants), String(c.lobby), c.sharing === null ? '-' : printable(c.sharing), c.startedAt, ...(cluster ? [printable(c.node ?? '-')] : [])]),
    ),
  );
}

async function conferenceEnd(server: AdminApiFile, [id]: string[], _values: Values, io: AdminIO): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id!)) throw new UsageError(`"${printable(id!)}" is not a meeting id (the last part of its URL /m/<id>)`);
  await callServer(server, 'POST', `/api/admin/conferences/${id}/end`);
  io.stdout.write(`ended ${id} for everyone in it\n`);
}

async function nodeList(server: AdminApiFile, _args: string[], _values: Values, io: AdminIO): Promise<void> {
  const res = await callServer(server, 'GET', '/api/cluster').catch((err: BatonError) => {
    throw err.code === 'not_found' && /404/.test(err.message) ? new BatonError('not_found', 'this server is a single node (no --cluster)') : err;
  });
  const view = ClusterView.parse(res);
  io.stdout.write(
    table(
      ['NODE', 'LOAD', 'CONFERENCES', 'DRAINING', 'URL'],
      view.nodes.map((n) => [n.id + (n.id === view.self ? ' *' : ''), String(n.load), String(n.conferences.length), n.draining ? 'yes' : 'no', n.url]),
    ),
  );
}

async function nodeDrain(server: AdminApiFile, [id]: string[], io: AdminIO, draining: boolean): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id!)) throw new UsageError(`"${printable(id!)}" is not a node id`);
  await callServer(server, 'PUT', `/api/cluster/nodes/${id}/drain`, { draining });
  io.stdout.write(draining ? `${id} is draining: no new conferences go there; its live ones stay until they end\n` : `${id} takes new conferences again\n`);
}

// ---- helpers ----

async function members(store: Store, group: string): Promise<Set<string>> {
  const users = await store.getGroupMembers(group);
  if (!users) throw new BatonError('not_found', `no group "${group}"`);
  return new Set(users.map((u) => u.username));
}

/** The same rules as the invite API's group names (1-64 characters, no control characters). */
function groupName(raw: string): string {
  const r = GroupName.safeParse(raw);
  if (!r.success) throw new UsageError(`bad group name "${printable(raw)}": ${r.error.issues[0]?.message}`);
  return r.data;
}

function normalizeUsername(raw: string): string {
  const r = Username.safeParse(raw);
  if (!r.success) throw new UsageError(`"${printable(raw)}" is not a valid username (${r.error.issues[0]?.message})`);
  return r.data;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n';
  return line(head) + rows.map(line).join('');
}

function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, '');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a terminal without echoing it. */
function promptHidden(question: string, io: AdminIO): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(question);
  stdin.setRawMode!(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** The process entry: `node dist/admin.js` and the baton-admin bin wrapper both come here. */
export async function adminMain(argv: string[]): Promise<void> {
  process.exitCode = await runAdmin(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
}

if (invokedDirectly()) await adminMain(process.argv.slice(2));
