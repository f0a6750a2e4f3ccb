#!/usr/bin/env node
/**
 * baton-admin: manage users and distribution groups in a Baton store from the shell.
 * It opens the same store as the server (same URL rules), runs pending migrations, does one thing
 * and exits: 0 on success, 1 when the store refused (unknown or taken name), 2 on bad usage.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GroupName, Username, printable } from '@baton/protocol';
import { AccountService } from './auth/AccountService.js';
import { BadRequestError, BatonError } from './errors.js';
import { openStore } from './store/index.js';
import type { Store, UserRecord } from './store/Store.js';

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

Options:
  --store <url>      sqlite:<path>, sqlite::memory: or postgres://user@host/db
                     (default: env BATON_STORE, else sqlite:<data dir>/baton.sqlite)
  --data-dir <dir>   data directory (default: env BATON_DATA_DIR, else ./data)
  --password-stdin   read the password from standard input (safer than --password,
                     which other local users can see in the process list)
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
  run(store: Store, args: string[], values: Values, io: AdminIO): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  'user add': { args: '<username> [--password <pw> | --password-stdin] [--name <display name>] [--email <address>] [--admin]', options: ['password', 'password-stdin', 'name', 'email', 'admin'], min: 1, max: 1, run: userAdd },
  'user list': { args: '', min: 0, max: 0, run: userList },
  'group add': { args: '<name>', min: 1, max: 1, run: groupAdd },
  'group add-member': { args: '<group> <username...>', min: 2, max: Infinity, run: groupAddMember },
  'group remove-member': { args: '<group> <username...>', min: 2, max: Infinity, run: groupRemoveMember },
  'group list': { args: '', min: 0, max: 0, run: groupList },
  'group show': { args: '<name>', min: 1, max: 1, run: groupShow },
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

    store = await openStore(storeUrl(values, io.env));
    await store.migrate();
    await cmd.run(store, args, values, io);
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
