/**
 * Runs the compiled baton-admin (dist/admin.js) as a child process against temp stores and
 * checks the store afterwards. Rebuilds the server package first when dist is older than src.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from './auth/passwords.js';
import { openStore } from './store/index.js';
import { freshPostgres } from './store/testing.js';

const srcDir = dirname(fileURLToPath(import.meta.url));
const pkgDir = dirname(srcDir);
const repoRoot = dirname(dirname(pkgDir));
const cli = join(pkgDir, 'dist', 'admin.js');

function newestSource(): number {
  const files = ['admin.ts', 'errors.ts', ...['store', 'auth'].flatMap((d) => readdirSync(join(srcDir, d)).map((f) => join(d, f)))];
  return Math.max(...files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => statSync(join(srcDir, f)).mtimeMs));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return runNode([cli, ...args], opts);
}

function runNode(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env = { ...process.env };
  delete env.BATON_STORE;
  delete env.BATON_DATA_DIR;
  const child = spawn(process.execPath, args, { cwd: tmp, env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'baton-admin-'));
  if (!existsSync(cli) || statSync(cli).mtimeMs < newestSource()) {
    try {
      execFileSync('npx', ['tsc', '-b', 'packages/server'], { cwd: repoRoot, stdio: 'pipe', timeout: 180_000 });
    } catch (err) {
      // Other people's files may fail to compile; ours are emitted anyway. Judge by the result.
      if (!existsSync(cli) || statSync(cli).mtimeMs < newestSource()) {
        throw new Error(`could not build ${cli}: ${(err as { stdout?: Buffer }).stdout?.toString() ?? err}`);
      }
    }
  }
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Every step spawns a node process (and user add hashes with scrypt): minutes on a loaded 2-core CI machine.
describe('baton-admin (compiled CLI)', { timeout: 180_000 }, () => {
  it('starts with a node shebang and prints help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: baton-admin/);
    expect(r.stdout).toContain('group remove-member');
    expect((await import('node:fs')).readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: baton-admin/);
  });

  it('the committed bin wrapper (what npx baton-admin runs) runs the built CLI, or says to build first', async () => {
    const fs = await import('node:fs');
    const pkg = JSON.parse(fs.readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'baton-server': 'bin/baton-server.js', 'baton-admin': 'bin/baton-admin.js' });
    const wrapper = join(pkgDir, pkg.bin['baton-admin']!);
    const help = await runNode([wrapper, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: baton-admin/);
    expect((await runNode([wrapper, 'frobnicate'])).code).toBe(2);
    // A checkout that was installed but not built yet: no dist/ next to bin/.
    for (const name of ['baton-admin', 'baton-server']) {
      const lone = join(tmp, 'unbuilt', 'bin', `${name}.js`);
      fs.mkdirSync(dirname(lone), { recursive: true });
      fs.copyFileSync(join(pkgDir, pkg.bin[name]!), lone);
      const r = await runNode([lone, '--help']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: `${name}: Baton is not built yet: run "npm run build" (or "npm start") in the Baton directory first.\n` });
    }
  });

  it('adds users (password by flag and by stdin) into a migrated store, and lists them', async () => {
    const url = `sqlite:${join(tmp, 'users', 'store.sqlite')}`;
    const a = await run(['--store', url, 'user', 'add', 'Alice', '--password', 'password-1', '--name', 'Alice Liddell', '--admin']);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(a.stdout).toContain('created user alice ("Alice Liddell") with admin rights');
    const b = await run(['--store', url, 'user', 'add', 'bob', '--password-stdin'], { input: 'pass word 2\n' });
    expect(b.code).toBe(0);

    const list = await run(['--store', url, 'user', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^USERNAME\s+DISPLAY NAME\s+ADMIN\s+CREATED$/);
    expect(list.stdout).toMatch(/\nalice\s+Alice Liddell\s+yes\s+\d{4}-/);
    expect(list.stdout).toMatch(/\nbob\s+bob\s+no\s+\d{4}-/);

    const store = await openStore(url);
    try {
      const alice = await store.getUserByUsername('alice');
      expect(alice).toMatchObject({ displayName: 'Alice Liddell', admin: true });
      expect(await verifyPassword('password-1', alice!.passwordHash)).toBe(true);
      const bob = await store.getUserByUsername('bob');
      expect(bob).toMatchObject({ displayName: 'bob', admin: false });
      expect(await verifyPassword('pass word 2', bob!.passwordHash)).toBe(true); // only the final newline is stripped
    } finally {
      await store.close();
    }
  });

  it('refuses bad user input with a clear message and a non-zero status', async () => {
    const url = `sqlite:${join(tmp, 'bad-users.sqlite')}`;
    expect((await run(['--store', url, 'user', 'add', 'carol', '--password', 'password-1'])).code).toBe(0);
    const cases: [string[], number, RegExp, string?][] = [
      [['user', 'add', 'carol', '--password', 'password-2'], 1, /username "carol" is taken/],
      [['user', 'add', 'dave'], 2, /no password: give --password-stdin/],
      [['user', 'add', 'dave', '--password', 'short'], 2, /at least 8 characters/],
      [['user', 'add', 'd', '--password', 'password-1'], 2, /username: 2-32 letters/],
      [['user', 'add', 'dave', '--password', 'password-1', '--password-stdin'], 2, /not both/, 'password-1\n'],
      [['user', 'add'], 2, /usage: baton-admin user add <username>/],
      [['user', 'add', 'dave', 'erin', '--password', 'password-1'], 2, /usage: baton-admin user add/],
      [['user', 'list', '--admin'], 2, /--admin does not apply to "user list"/],
      [['user', 'remove', 'carol'], 2, /unknown command "user remove"; "user" has: add, list/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
      [['user', 'list', '--bogus'], 2, /Unknown option '--bogus'/],
    ];
    for (const [args, code, message, input] of cases) {
      const r = await run(['--store', url, ...args], input === undefined ? {} : { input });
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^baton-admin: /);
    }
    const store = await openStore(url);
    try {
      expect((await store.listUsers()).map((u) => u.username)).toEqual(['carol']);
    } finally {
      await store.close();
    }
  });

  it('manages groups and their members', async () => {
    const dataDir = join(tmp, 'groups-data');
    const env = { BATON_DATA_DIR: dataDir };
    const admin = (...args: string[]) => run(args, { env });
    for (const name of ['ann', 'ben', 'cat']) expect((await admin('user', 'add', name, '--password', 'password-1')).code).toBe(0);

    expect(await admin('group', 'add', 'team')).toMatchObject({ code: 0, stdout: 'created group team\n' });
    expect(await admin('group', 'add', 'ops')).toMatchObject({ code: 0 });
    const dup = await admin('group', 'add', 'team');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('group "team" already exists');

    expect((await admin('group', 'add-member', 'team', 'ann', 'BEN')).stdout).toBe('added ann, ben to team\n');
    const again = await admin('group', 'add-member', 'team', 'ben', 'cat');
    expect(again).toMatchObject({ code: 0, stdout: 'added cat to team (already members: ben)\n' });
    // All or nothing: one unknown user and no one is added (ops stays empty, checked below).
    const ghost = await admin('group', 'add-member', 'ops', 'ann', 'ghost');
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toBe('baton-admin: no such user: ghost; no one was added to ops (create it first with "baton-admin user add <username>")\n');
    const ghosts = await admin('group', 'add-member', 'ops', 'zed', 'ann', 'ghost', 'zed');
    expect(ghosts.stderr).toContain('no such users: zed, ghost; no one was added to ops');
    expect((await admin('group', 'add', 'bad\x1b[2Jname')).stderr).toContain('bad group name "bad\\x1b[2Jname": group name contains U+001B');
    const noGroup = await admin('group', 'add-member', 'nope', 'ann');
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toContain('no group "nope"');
    expect((await admin('group', 'add-member', 'team')).code).toBe(2);

    const notMember = await admin('group', 'remove-member', 'team', 'cat', 'ghost');
    expect(notMember.code).toBe(1);
    expect(notMember.stderr).toContain('not members of team: ghost (no one removed)');
    expect(await admin('group', 'remove-member', 'team', 'cat')).toMatchObject({ code: 0, stdout: 'removed cat from team\n' });

    const list = await admin('group', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^GROUP\s+MEMBERS\s+CREATED\nops\s+0\s+\d{4}-.*\nteam\s+2\s+\d{4}-/);
    const show = await admin('group', 'show', 'team');
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^group team: 2 members\nUSERNAME\s+DISPLAY NAME\nann\s+ann\nben\s+ben\n$/);
    const missing = await admin('group', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no group "nope"');

    // The default store is <data dir>/baton.sqlite.
    expect(existsSync(join(dataDir, 'baton.sqlite'))).toBe(true);
    const store = await openStore(`sqlite:${join(dataDir, 'baton.sqlite')}`);
    try {
      expect((await store.getGroupMembers('team'))!.map((u) => u.username)).toEqual(['ann', 'ben']);
      expect(await store.getGroupMembers('ops')).toEqual([]);
      expect((await store.listGroups()).map((g) => g.name)).toEqual(['ops', 'team']);
    } finally {
      await store.close();
    }
  });

  it("runs README's admin example as written", async () => {
    const readme = (await import('node:fs')).readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = /Administration[^\n]*\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeTruthy();
    const lines = block!.split('\n').filter((l) => l.startsWith('npx baton-admin '));
    expect(lines.some((l) => l.includes('group add-member'))).toBe(true);
    const env = { BATON_DATA_DIR: join(tmp, 'readme-data') };
    for (const line of lines) {
      const words = [...line.replace(/^npx baton-admin /, '').replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      const r = await run(words, { env, input: 'kite-velvet-orbit-42\n' });
      expect({ line, code: r.code, stderr: r.stderr }).toEqual({ line, code: 0, stderr: '' });
    }
    const store = await openStore(`sqlite:${join(tmp, 'readme-data', 'baton.sqlite')}`);
    try {
      expect((await store.getGroupMembers('engineering'))!.map((u) => u.username).sort()).toEqual(['alice', 'bob']);
    } finally {
      await store.close();
    }
  });

  it('picks the store from --store, then BATON_STORE, then --data-dir, then BATON_DATA_DIR, then ./data', async () => {
    const add = (name: string, args: string[], env: Record<string, string> = {}) => run([...args, 'user', 'add', name, '--password', 'password-1'], { env });
    const flag = join(tmp, 'pick-flag.sqlite');
    const envStore = join(tmp, 'pick-env.sqlite');
    expect((await add('u-flag', ['--store', `sqlite:${flag}`], { BATON_STORE: `sqlite:${envStore}` })).code).toBe(0);
    expect((await add('u-env', [], { BATON_STORE: `sqlite:${envStore}`, BATON_DATA_DIR: join(tmp, 'unused') })).code).toBe(0);
    expect((await add('u-dir', ['--data-dir', join(tmp, 'pick-dir')], { BATON_DATA_DIR: join(tmp, 'unused') })).code).toBe(0);
    expect((await add('u-envdir', [], { BATON_DATA_DIR: join(tmp, 'pick-envdir') })).code).toBe(0);
    expect((await add('u-default', [])).code).toBe(0); // cwd is tmp
    expect(existsSync(join(tmp, 'unused'))).toBe(false);
    const where: [string, string][] = [
      [flag, 'u-flag'],
      [envStore, 'u-env'],
      [join(tmp, 'pick-dir', 'baton.sqlite'), 'u-dir'],
      [join(tmp, 'pick-envdir', 'baton.sqlite'), 'u-envdir'],
      [join(tmp, 'data', 'baton.sqlite'), 'u-default'],
    ];
    for (const [file, user] of where) {
      const store = await openStore(`sqlite:${file}`);
      try {
        expect((await store.listUsers()).map((u) => u.username)).toEqual([user]);
      } finally {
        await store.close();
      }
    }
  });

  it('reports an unreachable or unknown store as an error', async () => {
    const r = await run(['--store', 'mysql://localhost/x', 'user', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unsupported store URL');
  });

  it('works against PostgreSQL too', async (ctx) => {
    const pgDb = await freshPostgres('baton-admin PostgreSQL test (packages/server/src/admin.test.ts)');
    if (!pgDb) return ctx.skip();
    try {
      const env = { BATON_STORE: pgDb.url };
      expect((await run(['user', 'add', 'pat', '--password-stdin'], { env, input: 'password-1' })).code).toBe(0);
      expect((await run(['group', 'add', 'pg-team'], { env })).code).toBe(0);
      expect((await run(['group', 'add-member', 'pg-team', 'pat'], { env })).code).toBe(0);
      const store = await openStore(pgDb.url);
      try {
        const pat = await store.getUserByUsername('pat');
        expect(await verifyPassword('password-1', pat!.passwordHash)).toBe(true);
        expect((await store.getGroupMembers('pg-team'))!.map((u) => u.username)).toEqual(['pat']);
      } finally {
        await store.close();
      }
    } finally {
      await pgDb.drop();
    }
  });
});
