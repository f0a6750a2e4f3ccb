/**
 * The marks drawn over a conference's shared surfaces (the shared screen, slide pages), kept in memory
 * for the live conference only: marks on a screen mean nothing once that screen is gone, and a slide's
 * marks are a meeting's scribbles, not its record (the slides may store theirs if they need to).
 *
 * Marks on the screen clear on their own when the content under them is replaced. The rule (see
 * docs/architecture/data-collaboration.md, "Annotation"): each mark covers the cells of the share's
 * tile grid under it
 * (along a stroke or arrow, widened by its line; the whole box of a rectangle or a text). A tile from
 * the host replaces the cells it covers; a mark goes once more than half of its cells have been
 * replaced since it was drawn (each cell counted once). So typing, a blinking caret or a clock
 * elsewhere never removes it, nor a few changed cells inside a large rectangle, while scrolling (a
 * Copy tile), a new window or page over it does. Not counted as replacing: the lossless refinement
 * of a lossy tile (same picture, sharper), and the whole picture a host sends after a `screen` of the
 * same size (an agent that reconnected). A new screen size, or the end of the share, clears every
 * screen mark.
 */
import {
  MARK_STYLE,
  MAX_MARKS_PER_CONFERENCE,
  MAX_POINTS_PER_CONFERENCE,
  TILE_FLAG_LOSSY,
  sameSurface,
  type Mark,
  type MarkAuthor,
  type MarkDraft,
  type MarkRemoval,
  type Surface,
} from '@baton/protocol';
import { ConflictError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { shortId } from '../util/ids.js';

export interface AnnotationBoardOptions {
  /** Marks kept at most (all surfaces); default MAX_MARKS_PER_CONFERENCE. */
  maxMarks?: number;
  /** Points of all marks together; default MAX_POINTS_PER_CONFERENCE. */
  maxPoints?: number;
  /** The share of a mark's cells that must be replaced before it goes (more than this); default 0.5. */
  replacedShare?: number;
}

export type AnnotationBoardEvents = {
  added: [mark: Mark];
  removed: [ids: string[], reason: MarkRemoval];
};

/** Who draws: the seat as shown, and the person (`key`: a user, or a guest's seat identity) for "clear mine". */
export interface MarkAuthorKey extends MarkAuthor {
  key: string;
}

interface Grid {
  width: number;
  height: number;
  tileSize: number;
  cols: number;
  rows: number;
}

interface Entry {
  mark: Mark;
  authorKey: string;
  points: number;
  /** Screen marks: the grid cells under it (null until a screen size is known); others: null. */
  cells: Uint32Array | null;
  replaced: Set<number>;
}

/** The tile message fields the board needs. */
export interface TileRect {
  x: number;
  y: number;
  w: number;
  h: number;
  flags: number;
}

export class AnnotationBoard extends TypedEmitter<AnnotationBoardEvents> {
  readonly #maxMarks: number;
  readonly #maxPoints: number;
  readonly #share: number;
  readonly #marks = new Map<string, Entry>();
  #points = 0;
  #grid: Grid | null = null;
  /** Screen cells → the ids of the screen marks over them. */
  #byCell = new Map<number, Set<string>>();
  /** Per cell: its newest tile was lossy (a lossless tile over it next is a refinement). */
  #lossy = new Uint8Array(0);
  /** After a `screen` of the size the marks were drawn on: the host's whole picture follows until the next frame. */
  #baseline = false;
  #closed = false;

  constructor(opts: AnnotationBoardOptions = {}) {
    super();
    this.#maxMarks = opts.maxMarks ?? MAX_MARKS_PER_CONFERENCE;
    this.#maxPoints = opts.maxPoints ?? MAX_POINTS_PER_CONFERENCE;
    this.#share = opts.replacedShare ?? 0.5;
  }

  get size(): number {
    return this.#marks.size;
  }

  /** Every mark, oldest first (the welcome's `annotations`). */
  marks(): Mark[] {
    return [...this.#marks.values()].map((e) => e.mark);
  }

  /** The cells under a screen mark and how many were replaced (tests, measurements). */
  coverage(id: string): { cells: number; replaced: number } | undefined {
    const e = this.#marks.get(id);
    return e?.cells ? { cells: e.cells.length, replaced: e.replaced.size } : undefined;
  }

  /** A mark drawn by `author` (the Focus has checked that it may annotate this surface). */
  handleAdd(surface: Surface, draft: MarkDraft, author: MarkAuthorKey): Mark {
    if (this.#marks.size >= this.#maxMarks) throw new ConflictError(`this meeting has ${this.#maxMarks} marks already; clear some first`);
    const points = draft.points.length;
    if (this.#points + points > this.#maxPoints) throw new ConflictError('this meeting holds as many drawn points as it can; clear some marks first');
    const { key, ...shown } = author;
    // Whole pixels (or hundredths of a page unit) are all a viewer can tell apart; fewer bytes to everyone.
    const rounded = { ...draft, points: draft.points.map(([x, y]) => [round(x), round(y)]) } as MarkDraft;
    const mark = { ...rounded, id: shortId(), surface, author: shown, at: new Date().toISOString() } as Mark;
    const entry: Entry = { mark, authorKey: key, points, cells: null, replaced: new Set() };
    this.#marks.set(mark.id, entry);
    this.#points += points;
    if (surface.kind === 'screen' && this.#grid) this.#index(entry);
    this.emit('added', mark);
    return mark;
  }

  /** Clear marks: `byKey`'s own (null: everyone's), on one surface or all. Returns the ids removed. */
  handleClear(surface: Surface | undefined, byKey: string | null): string[] {
    const ids = [...this.#marks.values()]
      .filter((e) => (byKey === null || e.authorKey === byKey) && (!surface || sameSurface(e.mark.surface, surface)))
      .map((e) => e.mark.id);
    this.#remove(ids, 'cleared');
    return ids;
  }

  /** The host announced its screen (first, a reconnect, a new size or source). */
  handleScreen(width: number, height: number, tileSize: number): void {
    const g = this.#grid;
    if (g && g.width === width && g.height === height && g.tileSize === tileSize) {
      this.#baseline = true; // the same screen again: what follows is its picture, not new content
      return;
    }
    if (g) this.#removeScreenMarks('screen');
    this.#grid = { width, height, tileSize, cols: Math.ceil(width / tileSize), rows: Math.ceil(height / tileSize) };
    this.#lossy = new Uint8Array(this.#grid.cols * this.#grid.rows);
    this.#baseline = true;
    // Marks drawn before the relay knew the screen (the first picture was still on its way).
    for (const e of this.#marks.values()) if (e.mark.surface.kind === 'screen') this.#index(e);
  }

  /** A tile from the host replaced the cells it covers (the relay accepted it). */
  handleTile(t: TileRect): void {
    const g = this.#grid;
    if (!g) return;
    const ts = g.tileSize;
    const c0 = Math.floor(t.x / ts), r0 = Math.floor(t.y / ts);
    const c1 = Math.min(g.cols - 1, Math.ceil((t.x + t.w) / ts) - 1), r1 = Math.min(g.rows - 1, Math.ceil((t.y + t.h) / ts) - 1);
    const lossy = (t.flags & TILE_FLAG_LOSSY) !== 0 ? 1 : 0;
    let refinement = !lossy;
    for (let r = r0; r <= r1 && refinement; r++) for (let c = c0; c <= c1; c++) if (!this.#lossy[r * g.cols + c]) { refinement = false; break; }
    const gone = new Set<string>();
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * g.cols + c;
        this.#lossy[cell] = lossy;
        if (refinement || this.#baseline) continue;
        const ids = this.#byCell.get(cell);
        if (!ids) continue;
        for (const id of ids) {
          const e = this.#marks.get(id)!;
          e.replaced.add(cell);
          if (e.replaced.size > this.#share * e.cells!.length) gone.add(id);
        }
      }
    }
    if (gone.size > 0) this.#remove([...gone], 'content');
  }

  /** The host's frame ended: after a baseline picture, tiles count again. */
  handleFrame(): void {
    this.#baseline = false;
  }

  /** The share ended: its marks go, and the next share starts from no screen. */
  handleShareEnded(): void {
    this.#removeScreenMarks('screen');
    this.#grid = null;
    this.#lossy = new Uint8Array(0);
    this.#baseline = false;
  }

  /** The host shows something else now (a source switch): the screen's marks no longer point at anything. */
  handleSourceChanged(): void {
    this.#removeScreenMarks('screen');
  }

  #removeScreenMarks(reason: MarkRemoval): void {
    this.#remove([...this.#marks.values()].filter((e) => e.mark.surface.kind === 'screen').map((e) => e.mark.id), reason);
  }

  #remove(ids: string[], reason: MarkRemoval): void {
    const removed: string[] = [];
    for (const id of ids) {
      const e = this.#marks.get(id);
      if (!e) continue;
      this.#marks.delete(id);
      this.#points -= e.points;
      if (e.cells) for (const cell of e.cells) {
        const set = this.#byCell.get(cell);
        set?.delete(id);
        if (set?.size === 0) this.#byCell.delete(cell);
      }
      removed.push(id);
    }
    if (removed.length > 0 && !this.#closed) this.emit('removed', removed, reason);
  }

  /** Works out the cells under a screen mark and files it under each. */
  #index(e: Entry): void {
    const g = this.#grid!;
    const cells = markCells(e.mark, g);
    e.cells = cells;
    e.replaced.clear();
    for (const cell of cells) {
      let set = this.#byCell.get(cell);
      if (!set) this.#byCell.set(cell, (set = new Set()));
      set.add(e.mark.id);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#marks.clear();
    this.#byCell.clear();
    this.removeAllListeners();
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Rough text box: the overlay draws MARK_STYLE.text px sans-serif from the point down and right. */
export function textBox(mark: Extract<Mark, { tool: 'text' }>): { x: number; y: number; w: number; h: number } {
  const size = MARK_STYLE.text;
  const [x, y] = mark.points[0];
  return { x, y, w: Math.max(size, [...mark.text].length * size * 0.6), h: size * 1.25 };
}

/** The grid cells under a mark, each once (see the rule in the class comment). */
export function markCells(mark: Mark, g: Grid): Uint32Array {
  const out = new Set<number>();
  const ts = g.tileSize;
  const box = (x0: number, y0: number, x1: number, y1: number) => {
    const c0 = Math.max(0, Math.floor(Math.min(x0, x1) / ts)), c1 = Math.min(g.cols - 1, Math.floor(Math.max(x0, x1) / ts));
    const r0 = Math.max(0, Math.floor(Math.min(y0, y1) / ts)), r1 = Math.min(g.rows - 1, Math.floor(Math.max(y0, y1) / ts));
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.add(r * g.cols + c);
  };
  switch (mark.tool) {
    case 'rectangle': {
      const [[x0, y0], [x1, y1]] = mark.points;
      box(x0, y0, x1, y1);
      break;
    }
    case 'text': {
      const b = textBox(mark);
      box(b.x, b.y, b.x + b.w, b.y + b.h);
      break;
    }
    default: {
      // Along the line, widened by half its width: sampled at most half a cell apart.
      const r = MARK_STYLE[mark.tool] / 2;
      const pts = mark.points;
      const step = Math.max(1, ts / 2);
      for (let i = 0; i < pts.length; i++) {
        const [ax, ay] = pts[i]!;
        const [bx, by] = pts[Math.min(i + 1, pts.length - 1)]!;
        const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
        for (let k = 0; k <= n; k++) {
          const x = ax + ((bx - ax) * k) / n, y = ay + ((by - ay) * k) / n;
          box(x - r, y - r, x + r, y + r);
        }
      }
    }
  }
  return Uint32Array.from(out);
}
