/**
 * Opens the conference store named by a URL:
 *   sqlite:<path>           an embedded SQLite file (parent directory created, WAL journal)
 *   sqlite::memory:         a private in-memory SQLite database (tests)
 *   postgres://… | postgresql://…   a PostgreSQL server through a pg connection pool
 * openStore does not migrate: the caller runs `store.migrate()` once at start.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { KyselyStore } from './KyselyStore.js';
import type { Database } from './schema.js';
import type { Store } from './Store.js';

export * from './Store.js';
export { KyselyStore } from './KyselyStore.js';

export interface OpenStoreOptions {
  /** Largest PostgreSQL pool size (default 10). */
  poolSize?: number;
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) return openSqlite(sqlitePath(url));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, opts.poolSize ?? 10);
  throw new Error(`unsupported store URL "${redact(url)}": use sqlite:<path> or postgres://…`);
}

/** `sqlite:data/x.sqlite`, `sqlite:/abs/x.sqlite`, `sqlite:///abs/x.sqlite`, `sqlite::memory:`. */
export function sqlitePath(url: string): string {
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw new Error('sqlite store URL has no path: use sqlite:<path>');
  return path;
}

function openSqlite(path: string): KyselyStore {
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const database = new SqliteDatabase(memory ? ':memory:' : path);
  if (!memory) database.pragma('journal_mode = WAL');
  // Foreign keys are off by default in SQLite and are a per-connection setting.
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyStore({ db, engine: 'sqlite' });
}

async function openPostgres(url: string, max: number): Promise<KyselyStore> {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (e.g. the server restarted) must not crash the process; the pool replaces it.
  pool.on('error', (err) => console.warn(`store: idle PostgreSQL connection failed: ${err.message}`));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore({ db, engine: 'postgres' });
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
