/**
 * The page's whiteboard replica against a scripted conference client: edits are batched into
 * updates under the size cap; undo takes back only this page's own edits; a refused update makes
 * the page start afresh from the server's board; unanswered updates go again after a reconnection.
 */
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { MAX_WB_UPDATE_BYTES, base64ToBytes, bytesToBase64, type ServerMessage } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { BoardSync } from './BoardSync';

type Sent = { type: string; update?: string };

function fakeClient(answer: (msg: Sent) => Promise<unknown>) {
  const listeners: ((m: ServerMessage) => void)[] = [];
  const sent: Sent[] = [];
  const client = {
    snapshot: { state: 'joined' },
    on: (_e: 'message', l: (m: ServerMessage) => void) => (listeners.push(l), () => {}),
    takeBoardBacklog: () => [] as string[],
    request: (m: Sent) => (sent.push(m), answer(m)),
    send: (m: Sent) => (sent.push(m), 'r1'),
  };
  const deliver = (m: ServerMessage) => listeners.forEach((l) => l(m));
  return { client: client as unknown as ConferenceClient & { snapshot: { state: string } }, sent, deliver };
}

const addRect = (b: BoardSync, id: string, x = 0) =>
  b.edit((els) => {
    const m = new Y.Map<unknown>();
    els.set(id, m);
    m.set('type', 'rect');
    m.set('x', x);
  });

describe('BoardSync', () => {
  it('batches edits into one update, and undo takes back only its own edits', async () => {
    vi.useFakeTimers();
    const { client, sent, deliver } = fakeClient(async () => ({ type: 'ack' }));
    const b = new BoardSync(client);
    addRect(b, 'mine1');
    b.stopCapturing();
    addRect(b, 'mine2');
    await vi.advanceTimersByTimeAsync(200);
    expect(sent.filter((s) => s.type === 'wb.update')).toHaveLength(1); // merged into one message
    // Someone else's element arrives.
    const other = new Y.Doc();
    Y.applyUpdate(other, base64ToBytes(sent[0]!.update!));
    let theirs = '';
    other.on('update', (u: Uint8Array) => (theirs = bytesToBase64(u)));
    other.transact(() => {
      const m = new Y.Map<unknown>();
      other.getMap('elements').set('theirs', m);
      m.set('type', 'ellipse');
    });
    deliver({ type: 'wb.updated', update: theirs });
    expect(b.elements().map((e) => e.id).sort()).toEqual(['mine1', 'mine2', 'theirs']);
    b.undo();
    expect(b.elements().map((e) => e.id).sort()).toEqual(['mine1', 'theirs']);
    b.undo();
    expect(b.elements().map((e) => e.id)).toEqual(['theirs']);
    expect(b.canUndo).toBe(false);
    b.redo();
    expect(b.elements().map((e) => e.id).sort()).toEqual(['mine1', 'theirs']);
    await vi.advanceTimersByTimeAsync(200);
    // The undo and redo went to the server as ordinary updates.
    expect(sent.filter((s) => s.type === 'wb.update').length).toBeGreaterThanOrEqual(2);
    b.close();
    vi.useRealTimers();
  });

  it('a refused update makes the page start afresh from the server\'s board, and it says why', async () => {
    vi.useFakeTimers();
    const { client, sent, deliver } = fakeClient(async (m) => {
      if (m.type === 'wb.update') throw { code: 'policy', message: 'the meeting policy lets only presenters and organizers draw on the whiteboard' };
      return { type: 'ack' };
    });
    const b = new BoardSync(client);
    const reasons: string[] = [];
    b.on('refused', (r) => reasons.push(r));
    addRect(b, 'refused1');
    await vi.advanceTimersByTimeAsync(200);
    expect(reasons).toEqual(['the meeting policy lets only presenters and organizers draw on the whiteboard']);
    expect(sent.some((s) => s.type === 'wb.sync')).toBe(true);
    const server = new Y.Doc();
    const m = new Y.Map<unknown>();
    server.getMap('elements').set('kept', m);
    m.set('type', 'text');
    deliver({ type: 'wb.state', state: bytesToBase64(Y.encodeStateAsUpdate(server)) });
    expect(b.elements().map((e) => e.id)).toEqual(['kept']);
    expect(b.canUndo).toBe(false);
    b.close();
    vi.useRealTimers();
  });

  it('keeps updates under the size cap, and sends unanswered ones again after a reconnection', async () => {
    vi.useFakeTimers();
    let online = false;
    const { client, sent, deliver } = fakeClient(async () => {
      if (!online) throw { code: 'timeout', message: 'no answer' };
      return { type: 'ack' };
    });
    const b = new BoardSync(client);
    // Many strokes at once: more than one update's worth.
    for (let i = 0; i < 40; i++)
      b.edit((els) => {
        const s = new Y.Map<unknown>();
        els.set(`s${i}`, s);
        s.set('type', 'stroke');
        s.set('points', Array.from({ length: 400 }, (_, k) => k));
      });
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(100);
    const first = sent.filter((s) => s.type === 'wb.update');
    expect(first.length).toBeGreaterThan(1);
    for (const s of first) expect(base64ToBytes(s.update!).length).toBeLessThanOrEqual(MAX_WB_UPDATE_BYTES);
    // Nothing was answered; after the welcome of a reconnection they all go again.
    online = true;
    sent.length = 0;
    deliver({ type: 'welcome' } as unknown as ServerMessage);
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(100);
    const again = new Y.Doc();
    for (const s of sent.filter((x) => x.type === 'wb.update')) Y.applyUpdate(again, base64ToBytes(s.update!));
    expect(again.getMap('elements').size).toBe(40);
    b.close();
    vi.useRealTimers();
  });
});
