/**
 * Test helper: a fresh, empty PostgreSQL database per test run, dropped afterwards.
 * Base server: env BATON_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 * When PostgreSQL is unreachable: under CI=true this throws (the run must fail); otherwise it
 * warns loudly and returns null so the caller skips its PostgreSQL tests.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface FreshPostgres {
  /** URL of the new database, ready for openStore(). */
  url: string;
  /** Drops the database (terminating leftover connections). Safe to call twice. */
  drop(): Promise<void>;
}

export async function freshPostgres(what = 'PostgreSQL tests'): Promise<FreshPostgres | null> {
  const base = process.env.BATON_TEST_PG_URL || DEFAULT_TEST_PG_URL;
  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    await admin.end().catch(() => {});
    const msg = `PostgreSQL at ${redact(base)} is unavailable (${(err as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${msg}; CI=true requires it for ${what}`);
    console.warn(`\n!!! SKIPPING ${what}: ${msg}. Set BATON_TEST_PG_URL or start PostgreSQL to run them. !!!\n`);
    return null;
  }
  await admin.end();

  const url = new URL(base);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop() {
      dropped ??= (async () => {
        const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
        await c.connect();
        try {
          await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
          await c.query(`DROP DATABASE IF EXISTS ${name}`);
        } finally {
          await c.end();
        }
      })();
      return dropped;
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
