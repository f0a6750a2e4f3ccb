/**
 * Two nodes' RecordingServices on one PostgreSQL store with the shared recordings bucket (cluster
 * mode): a recording finished on X is replayed on Y from Y's own copy, fetched on first use; once it
 * is deleted through X, Y's copy goes at Y's next prune (and not a recording the store still has).
 */
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@baton/protocol';
import { openStore, type KyselyStore } from '../store/index.js';
import { freshPostgres } from '../store/testing.js';
import { SqlBlobStore } from '../data/SqlBlobStore.js';
import { RecordingService } from './RecordingService.js';

const pgDb = await freshPostgres('shared recording tests (packages/server/src/recording/RecordingService.shared.test.ts)');
const tmp = mkdtempSync(path.join(tmpdir(), 'baton-recshared-'));
afterAll(async () => {
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!pgDb)('recordings shared between nodes', () => {
  it('X records, Y replays from its fetched copy, X deletes, Y prunes its copy', async () => {
    const store = (await openStore(pgDb!.url)) as KyselyStore;
    await store.migrate();
    try {
      const shared = new SqlBlobStore({ db: store.kysely, bucket: 'recordings' });
      const node = (name: string) => new RecordingService({ store, dir: path.join(tmp, name), maxBytes: 1 << 20, retentionDays: null, shared });
      const [x, y] = [node('X'), node('Y')];
      const u = await store.createUser({ username: 'rita', displayName: 'Rita', passwordHash: 'x' });
      const conf = await store.createConference({ id: 'conf-rec-shared', organizerId: u.id, subject: 'S', policy: DEFAULT_POLICY });
      const kept = await x.start(conf, u.id);
      await x.finish(kept.id, kept.recorder, null);
      const { id, recorder } = await x.start(conf, u.id);
      await x.finish(id, recorder, null);

      expect(existsSync(y.dirOf(id))).toBe(false);
      expect(await y.index(id)).toEqual(await x.index(id));
      expect(existsSync(y.dirOf(id))).toBe(true);
      await y.index(kept.id);

      await x.delete(id);
      expect(await shared.list(`${id}/`)).toEqual([]);
      // A directory younger than a minute may be a recording starting: kept.
      expect(await y.pruneCopies()).toBe(0);
      const old = new Date(Date.now() - 120_000);
      utimesSync(y.dirOf(id), old, old);
      utimesSync(y.dirOf(kept.id), old, old);
      expect(await y.pruneCopies()).toBe(1);
      expect(existsSync(y.dirOf(id))).toBe(false);
      expect(existsSync(y.dirOf(kept.id))).toBe(true);
      await Promise.all([x.close(), y.close()]);
    } finally {
      await store.close();
    }
  });
});
