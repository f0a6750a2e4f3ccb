/**
 * The whiteboard model on the server against real stores (SQLite and PostgreSQL): concurrent edits
 * converge, everything is back after a restart (compacted), and bad input is refused with a reason
 * without touching the board: garbage bytes, foreign root types, unknown fields, bad values, lists,
 * oversized updates, updates that depend on unknown edits, another participant's Yjs client id,
 * and the element cap. A fuzz run of mangled updates never throws anything but a refusal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_POLICY, MAX_WB_ELEMENTS, bytesToBase64, base64ToBytes } from '@baton/protocol';
import { openStore } from '../store/index.js';
import { freshPostgres } from '../store/testing.js';
import type { Store } from '../store/Store.js';
import { BatonError } from '../errors.js';
import { Whiteboard } from './Whiteboard.js';

const pgDb = await freshPostgres('whiteboard tests on PostgreSQL (packages/server/src/data/Whiteboard.test.ts)');
const tmp = mkdtempSync(join(tmpdir(), 'baton-wb-'));
afterAll(async () => {
  await pgDb?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  { engine: 'sqlite', url: `sqlite:${join(tmp, 'baton.sqlite')}` },
  { engine: 'postgres', url: pgDb?.url },
];

/** A client's replica: edits go out as the web client sends them (one update per transaction). */
class Replica {
  readonly doc = new Y.Doc();
  readonly out: Uint8Array[] = [];
  constructor() {
    this.doc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && this.out.push(u));
  }
  get els() {
    return this.doc.getMap<Y.Map<unknown>>('elements');
  }
  add(id: string, fields: Record<string, unknown>) {
    this.doc.transact(() => {
      const m = new Y.Map<unknown>();
      this.els.set(id, m);
      for (const [k, v] of Object.entries(fields)) m.set(k, v);
    }, 'local');
  }
  set(id: string, fields: Record<string, unknown>) {
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(fields)) this.els.get(id)!.set(k, v);
    }, 'local');
  }
  take(): string[] {
    return this.out.splice(0).map(bytesToBase64);
  }
  apply(b64: string) {
    Y.applyUpdate(this.doc, base64ToBytes(b64), 'remote');
  }
}

const stroke = { type: 'stroke', x: 100, y: 100, points: [0, 0, 5, 5, 10, 12], color: '#1f6feb', width: 3, z: 1 };

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BatonError);
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe.each(engines)('Whiteboard on $engine', ({ engine, url }) => {
  if (!url) {
    it.skip(`${engine}: not available, skipped (see warning above)`, () => {});
    return;
  }
  let store: Store;
  let n = 0;
  let conferenceId: string;
  beforeAll(async () => {
    store = await openStore(url);
    await store.migrate();
  });
  afterAll(() => store.close());

  const fresh = async (compactEvery?: number) => {
    const u = (await store.getUserByUsername('olga')) ?? (await store.createUser({ username: 'olga', displayName: 'Olga', passwordHash: 'x' }));
    conferenceId = `wb${++n}-${engine}`;
    await store.createConference({ id: conferenceId, organizerId: u.id, subject: 'S', policy: DEFAULT_POLICY });
    const wb = new Whiteboard({ conferenceId, store, compactEvery });
    await wb.load();
    return wb;
  };

  it('two writers at once converge; every accepted update goes to the others; a restart brings the board back compacted', async () => {
    const wb = await fresh(5);
    const sent: { update: string; from: string }[] = [];
    wb.on('update', (update, from) => sent.push({ update, from }));
    const a = new Replica();
    const b = new Replica();
    a.add('a1', stroke);
    b.add('b1', { ...stroke, type: 'rect', w: 50, h: 40, fill: 'none' });
    // Both send before either hears of the other.
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 'seat-a');
    for (const u of b.take()) await wb.handleUpdate(u, 'g:gus', 'seat-b');
    for (const s of sent) (s.from === 'seat-a' ? b : a).apply(s.update);
    sent.length = 0;
    // Concurrent edits of one element: a moves it, b recolours it; both changes stay.
    a.set('b1', { x: 300, y: 200 });
    b.set('b1', { color: '#d73a49' });
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 'seat-a');
    for (const u of b.take()) await wb.handleUpdate(u, 'g:gus', 'seat-b');
    for (const s of sent) (s.from === 'seat-a' ? b : a).apply(s.update);
    expect(a.els.toJSON()).toEqual(b.els.toJSON());
    expect(wb.toJSON()).toEqual(a.els.toJSON());
    expect(wb.toJSON().b1).toMatchObject({ x: 300, y: 200, color: '#d73a49' });
    // Deleting works for anyone who may draw.
    a.doc.transact(() => a.els.delete('a1'), 'local');
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 'seat-a');
    expect(wb.size).toBe(1);

    await wb.close();
    await wb.close(); // idempotent
    const rows = await store.listWhiteboardUpdates(conferenceId);
    expect(rows.length).toBe(1); // compacted on close
    const again = new Whiteboard({ conferenceId, store });
    await again.load();
    expect(again.toJSON()).toEqual(a.els.toJSON());
    // A joiner's replica from the state equals the board.
    const c = new Replica();
    c.apply(again.state());
    expect(c.els.toJSON()).toEqual(again.toJSON());
    // Writers keep writing after the restart (their clocks continue).
    a.set('b1', { x: 10 });
    for (const u of a.take()) await again.handleUpdate(u, 'u:ann', 'seat-a2');
    expect(again.toJSON().b1).toMatchObject({ x: 10 });
    await again.close();
  });

  it('refuses malformed, foreign, oversized and out-of-order updates with a reason, and the board is untouched', async () => {
    const wb = await fresh();
    const a = new Replica();
    a.add('ok', stroke);
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 's');
    const before = JSON.stringify(wb.toJSON());

    expect(await refused(wb.handleUpdate(bytesToBase64(new Uint8Array([1, 2, 3, 255, 255, 255, 255, 9])), 'u:ann', 's'))).toContain('not a Yjs update');

    const rogue = new Replica();
    rogue.doc.getMap('other').set('x', 1);
    expect(await refused(wb.handleUpdate(rogue.take()[0]!, 'u:eve', 's'))).toContain("has no 'other'");

    const list = new Replica();
    list.doc.getArray('elements').push([1]);
    expect(await refused(wb.handleUpdate(list.take()[0]!, 'u:eve', 's'))).toMatch(/maps only|not an element|has no/);

    const bad = (fields: Record<string, unknown>) => {
      const r = new Replica();
      r.add('e1', fields);
      return wb.handleUpdate(r.take()[0]!, 'u:eve', 's');
    };
    expect(await refused(bad({ ...stroke, onclick: 'alert(1)' }))).toContain("no field 'onclick'");
    expect(await refused(bad({ ...stroke, type: 'iframe' }))).toContain("'type' is invalid");
    expect(await refused(bad({ ...stroke, color: 'red;background:url(x)' }))).toContain("'color' is invalid");
    expect(await refused(bad({ ...stroke, x: 1e9 }))).toContain("'x' is invalid");
    expect(await refused(bad({ ...stroke, points: [1, 2, 3] }))).toContain("'points' is invalid");
    expect(await refused(bad({ ...stroke, points: Array.from({ length: 2002 }, () => 1) }))).toContain("'points' is invalid");
    expect(await refused(bad({ type: 'text', text: 'Hi\u202egnp.exe' }))).toContain("'text' is invalid");
    const idBad = new Replica();
    idBad.add('<script>', stroke);
    expect(await refused(wb.handleUpdate(idBad.take()[0]!, 'u:eve', 's'))).toContain('element id');
    // A nested Y type where a value belongs.
    const nested = new Replica();
    nested.doc.transact(() => {
      const m = new Y.Map();
      nested.els.set('n1', m);
      m.set('text', new Y.Text('x'));
    });
    expect(await refused(wb.handleUpdate(nested.take()[0]!, 'u:eve', 's'))).toContain('one plain value');

    // Too big for one update.
    expect(await refused(wb.handleUpdate(bytesToBase64(new Uint8Array(11 * 1024)), 'u:eve', 's'))).toContain('at most');

    // An update that depends on one the server never got (it would wait in memory for ever).
    const gap = new Replica();
    gap.add('g1', stroke);
    gap.take();
    gap.set('g1', { x: 5 });
    expect(await refused(wb.handleUpdate(gap.take()[0]!, 'u:eve', 's'))).toContain('does not have');

    // Another participant's Yjs client id: ann's edits belong to ann.
    a.set('ok', { x: 1 });
    expect(await refused(wb.handleUpdate(a.take()[0]!, 'u:mallory', 's'))).toContain('another participant');

    expect(JSON.stringify(wb.toJSON())).toBe(before);
    expect((wb as unknown as { size: number }).size).toBe(1);
    await wb.close();
  });

  it('a board that starts again while the last one is still storing waits for it, and nothing is lost', async () => {
    const wb = await fresh(1000);
    const a = new Replica();
    for (let i = 0; i < 30; i++) a.add(`q${i}`, { ...stroke, x: i });
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 's');
    const closed = wb.close(); // compaction under way
    const again = new Whiteboard({ conferenceId, store });
    await again.load();
    await closed;
    expect(again.size).toBe(30);
    a.set('q1', { x: 99 });
    for (const u of a.take()) await again.handleUpdate(u, 'u:ann', 's');
    await again.close();
    const third = new Whiteboard({ conferenceId, store });
    await third.load();
    expect(third.toJSON().q1).toMatchObject({ x: 99 });
    expect(third.size).toBe(30);
    await third.close();
  });

  it('caps the number of elements', async () => {
    const wb = await fresh(1000);
    const a = new Replica();
    // Many elements per update (small ones), until the cap.
    for (let i = 0; i < MAX_WB_ELEMENTS; i += 100) {
      a.doc.transact(() => {
        for (let k = i; k < Math.min(i + 100, MAX_WB_ELEMENTS); k++) {
          const m = new Y.Map();
          a.els.set(`e${k}`, m);
          m.set('type', 'rect');
        }
      }, 'local');
    }
    for (const u of a.take()) await wb.handleUpdate(u, 'u:ann', 's');
    expect(wb.size).toBe(MAX_WB_ELEMENTS);
    a.add('one-more', stroke);
    expect(await refused(wb.handleUpdate(a.take()[0]!, 'u:ann', 's'))).toContain(`at most ${MAX_WB_ELEMENTS} elements`);
    await wb.close();
  });

  it('a fuzz run of mangled updates is refused or applied, never crashes, and replicas still agree', async () => {
    const wb = await fresh();
    const a = new Replica();
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let refusedCount = 0;
    for (let i = 0; i < 300; i++) {
      a.add(`f${i}`, { ...stroke, x: i });
      const u = base64ToBytes(a.take()[0]!);
      const m = u.slice();
      for (let k = 0; k < 3; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
      try {
        await wb.handleUpdate(bytesToBase64(m), 'u:fuzz', 's');
      } catch (e) {
        expect(e).toBeInstanceOf(BatonError);
        refusedCount++;
      }
    }
    expect(refusedCount).toBeGreaterThan(0);
    // Whatever got in, a joiner's replica is the board.
    const c = new Replica();
    c.apply(wb.state());
    expect(c.els.toJSON()).toEqual(wb.toJSON());
    await wb.close();
  });
});
