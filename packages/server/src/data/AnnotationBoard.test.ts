import { describe, expect, it } from 'vitest';
import { ClientMessage, MAX_MARK_POINTS, TILE_FLAG_LOSSY, decodeClientMessage, type MarkDraft, type MarkRemoval } from '@baton/protocol';
import { AnnotationBoard, type MarkAuthorKey } from './AnnotationBoard.js';
import { BatonError } from '../errors.js';

const ALICE: MarkAuthorKey = { key: 'u:alice', id: 'p1', name: 'Alice', hue: 10 };
const BOB: MarkAuthorKey = { key: 'g:bob', id: 'p2', name: 'Bob', hue: 200 };
const SCREEN = { kind: 'screen' } as const;
const SLIDE = { kind: 'slide', deckId: 'd1', page: 2 } as const;
const TS = 16;

function board(opts: ConstructorParameters<typeof AnnotationBoard>[0] = {}) {
  const b = new AnnotationBoard(opts);
  const removed: { ids: string[]; reason: MarkRemoval }[] = [];
  b.on('removed', (ids, reason) => removed.push({ ids, reason }));
  return { b, removed, gone: () => removed.flatMap((r) => r.ids) };
}

/** A 1280x720 screen on a 16 px grid, its first picture sent and committed. */
function onScreen(b: AnnotationBoard, w = 1280, h = 720): void {
  b.handleScreen(w, h, TS);
  b.handleTile({ x: 0, y: 0, w, h, flags: 0 });
  b.handleFrame();
}

/** The host sends tiles of one cell each over a rectangle, then the frame. */
function replace(b: AnnotationBoard, x: number, y: number, w: number, h: number, flags = 0): void {
  for (let yy = y; yy < y + h; yy += TS) for (let xx = x; xx < x + w; xx += TS) b.handleTile({ x: xx, y: yy, w: TS, h: TS, flags });
  b.handleFrame();
}

const stroke = (pts: [number, number][]): MarkDraft => ({ tool: 'pen', points: pts });

describe('AnnotationBoard', () => {
  it('keeps marks with their author and colour, rounds points, lists them oldest first', () => {
    const { b } = board();
    onScreen(b);
    const m1 = b.handleAdd(SCREEN, stroke([[10.123, 20.456], [30, 40]]), ALICE);
    const m2 = b.handleAdd(SLIDE, { tool: 'text', points: [[5, 5]], text: 'hi' }, BOB);
    expect(m1.author).toEqual({ id: 'p1', name: 'Alice', hue: 10 });
    expect((m1 as { key?: string }).key).toBeUndefined();
    expect(m1.points[0]).toEqual([10.12, 20.46]);
    expect(b.marks().map((m) => m.id)).toEqual([m1.id, m2.id]);
  });

  it('clear mine takes only my marks; clear all on one surface leaves the others', () => {
    const { b, removed } = board();
    onScreen(b);
    const a = b.handleAdd(SCREEN, stroke([[1, 1]]), ALICE);
    const bb = b.handleAdd(SCREEN, stroke([[2, 2]]), BOB);
    const s = b.handleAdd(SLIDE, stroke([[3, 3]]), BOB);
    expect(b.handleClear(undefined, 'u:alice')).toEqual([a.id]);
    expect(b.handleClear(SCREEN, null)).toEqual([bb.id]);
    expect(b.marks().map((m) => m.id)).toEqual([s.id]);
    expect(removed.map((r) => r.reason)).toEqual(['cleared', 'cleared']);
  });

  it('refuses past the limits with a clear error', () => {
    const { b } = board({ maxMarks: 2, maxPoints: 5 });
    b.handleAdd(SLIDE, stroke([[1, 1], [2, 2]]), ALICE);
    expect(() => b.handleAdd(SLIDE, stroke([[1, 1], [2, 2], [3, 3], [4, 4]]), ALICE)).toThrow(/points/);
    b.handleAdd(SLIDE, stroke([[1, 1]]), ALICE);
    try {
      b.handleAdd(SLIDE, stroke([[1, 1]]), ALICE);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BatonError);
      expect((e as Error).message).toMatch(/2 marks already/);
    }
  });

  it('the protocol refuses malformed and oversized marks', () => {
    const bad = [
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'pen', points: Array.from({ length: MAX_MARK_POINTS + 1 }, () => [1, 1]) } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'pen', points: [[-1, 5]] } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'pen', points: [[1e9, 5]] } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'arrow', points: [[1, 5]] } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'text', points: [[1, 5]], text: 'x'.repeat(201) } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'text', points: [[1, 5]], text: 'a\u202eb' } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'wall' }, mark: { tool: 'pen', points: [[1, 5]] } },
      { type: 'annotation.add', rid: 'r', surface: { kind: 'screen' }, mark: { tool: 'spray', points: [[1, 5]] } },
      { type: 'annotation.laser', rid: 'r', surface: { kind: 'screen' }, points: Array.from({ length: 33 }, () => [1, 1]) },
    ];
    for (const m of bad) {
      const r = decodeClientMessage(JSON.stringify(m));
      expect(r.ok, JSON.stringify(m).slice(0, 80)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^invalid annotation\./);
    }
    expect(ClientMessage.safeParse({ type: 'annotation.add', rid: 'r', surface: { kind: 'slide', deckId: 'd', page: 1 }, mark: { tool: 'rectangle', points: [[1, 2], [3, 4]] } }).success).toBe(true);
  });

  it('a mark goes when most of the content under it is replaced, not when things change elsewhere', () => {
    const { b, removed, gone } = board();
    onScreen(b);
    // A stroke underlining a line of text at y=200 from x=100 to x=500.
    const m = b.handleAdd(SCREEN, stroke([[100, 200], [300, 200], [500, 200]]), ALICE);
    const cov = b.coverage(m.id)!;
    expect(cov.cells).toBeGreaterThan(20);
    // Typing elsewhere: 200 keystrokes, each one cell, in a line further down, and a blinking caret.
    for (let i = 0; i < 200; i++) replace(b, (i % 60) * TS, 480 + Math.floor(i / 60) * TS, TS, TS);
    for (let i = 0; i < 50; i++) replace(b, 600, 200, TS, TS);
    // A few cells right under the stroke (a caret there, a character retyped) do not take it either.
    replace(b, 256, 192, TS * 3, TS);
    expect(gone()).toEqual([]);
    // The page scrolls: the band under the stroke is replaced.
    replace(b, 0, 160, 1280, 96);
    expect(gone()).toEqual([m.id]);
    expect(removed[0]!.reason).toBe('content');
  });

  it('a rectangle around a region stays while part of it changes, goes when most of it is new', () => {
    const { b, gone } = board();
    onScreen(b);
    const r = b.handleAdd(SCREEN, { tool: 'rectangle', points: [[320, 160], [640, 480]] }, ALICE);
    replace(b, 320, 160, 320, 96); // the top third changes
    expect(gone()).toEqual([]);
    replace(b, 320, 256, 320, 128); // and then most of the rest
    expect(gone()).toEqual([r.id]);
  });

  it('a lossless refinement of lossy tiles is not a change; the baseline after a reconnect is not either', () => {
    const { b, gone } = board();
    b.handleScreen(1280, 720, TS);
    b.handleTile({ x: 0, y: 0, w: 1280, h: 720, flags: TILE_FLAG_LOSSY }); // a video frame
    b.handleFrame();
    const m = b.handleAdd(SCREEN, { tool: 'rectangle', points: [[0, 0], [160, 160]] }, ALICE);
    b.handleTile({ x: 0, y: 0, w: 640, h: 640, flags: 0 }); // the refinement once it stood still
    b.handleFrame();
    expect(gone()).toEqual([]);
    // The agent reconnects: the same screen, then its whole picture.
    b.handleScreen(1280, 720, TS);
    b.handleTile({ x: 0, y: 0, w: 1280, h: 720, flags: 0 });
    b.handleFrame();
    expect(gone()).toEqual([]);
    // New content after that counts again.
    replace(b, 0, 0, 160, 160);
    expect(gone()).toEqual([m.id]);
  });

  it('a new screen size, a source switch and the end of the share clear the screen marks, not the slides', () => {
    const { b, removed } = board();
    onScreen(b);
    b.handleAdd(SCREEN, stroke([[1, 1]]), ALICE);
    const s = b.handleAdd(SLIDE, stroke([[1, 1]]), ALICE);
    b.handleScreen(1920, 1080, TS);
    expect(removed.at(-1)!.reason).toBe('screen');
    b.handleAdd(SCREEN, stroke([[1, 1]]), ALICE);
    b.handleSourceChanged();
    b.handleAdd(SCREEN, stroke([[1, 1]]), ALICE);
    b.handleShareEnded();
    expect(removed.map((r) => r.reason)).toEqual(['screen', 'screen', 'screen']);
    expect(b.marks().map((m) => m.id)).toEqual([s.id]);
  });

  it('a mark drawn before the screen is known is indexed when it arrives', () => {
    const { b, gone } = board();
    const m = b.handleAdd(SCREEN, { tool: 'text', points: [[100, 100]], text: 'look' }, ALICE);
    expect(b.coverage(m.id)).toBeUndefined();
    onScreen(b);
    expect(b.coverage(m.id)!.cells).toBeGreaterThan(0);
    replace(b, 96, 96, 128, 48);
    expect(gone()).toEqual([m.id]);
  });

  it('measure: cost of a frame against 500 marks', () => {
    const { b } = board();
    onScreen(b, 1920, 1080);
    for (let i = 0; i < 500; i++) {
      const y = 20 + (i % 50) * 20, x = 20 + Math.floor(i / 50) * 180;
      b.handleAdd(SCREEN, stroke(Array.from({ length: 100 }, (_, k) => [x + k * 1.5, y + Math.sin(k / 5) * 8] as [number, number])), ALICE);
    }
    // Typing: frames of 4 one-cell tiles somewhere under the marks' area, none enough to remove one.
    const t0 = performance.now();
    const frames = 2000;
    for (let f = 0; f < frames; f++) for (let k = 0; k < 4; k++) b.handleTile({ x: ((f * 7 + k) % 120) * TS, y: 1024, w: TS, h: TS, flags: 0 });
    const typing = (performance.now() - t0) / frames;
    // A full-screen frame (video, a new page) against all of them.
    const t1 = performance.now();
    b.handleTile({ x: 0, y: 0, w: 1920, h: 1080, flags: 0 });
    const full = performance.now() - t1;
    console.log(`annotation board: ${typing.toFixed(4)} ms per typing frame (4 tiles), ${full.toFixed(2)} ms for a full-screen tile over 500 marks; ${b.size} left`);
    expect(b.size).toBe(0);
    expect(full).toBeLessThan(500);
  });
});
