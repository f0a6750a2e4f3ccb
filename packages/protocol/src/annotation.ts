/**
 * Annotation: marks drawn over a shared surface (the shared screen, or a page of a slide deck), and
 * a laser pointer that is relayed and never kept. The data-collaboration server keeps the marks per
 * live conference (server/src/data/AnnotationBoard.ts); the Focus authorizes every command. A mark's
 * coordinates are in the surface's own units: shared-screen pixels for the screen, the deck's page
 * units for a slide, so every viewer draws it on the same spot at any zoom. docs/protocol.md,
 * "Annotation".
 */
import { z } from 'zod';
import { safeText } from './text.js';

/**
 * Points in one pen or highlighter stroke: a longer scribble is sent as several strokes, so that one
 * stroke of whole-pixel points stays well inside a conference frame (MAX_CONFERENCE_FRAME, 16 KiB).
 */
export const MAX_MARK_POINTS = 500;
/** Marks kept per conference, all surfaces together (the oldest are not dropped: the next is refused). */
export const MAX_MARKS_PER_CONFERENCE = 500;
/** Points of all marks of a conference together: bounds memory and the welcome's size (~1 MB of JSON). */
export const MAX_POINTS_PER_CONFERENCE = 100_000;
export const MAX_MARK_TEXT = 200;
/** Points in one laser message (the client sends its trail every ~50 ms). */
export const MAX_LASER_POINTS = 32;
/** Largest coordinate on any surface (the largest shared screen is 8192 px a side). */
export const MAX_SURFACE_COORD = 16384;
/** How long a laser trail stays on the viewers' side, fading out (ms). */
export const LASER_FADE_MS = 1000;

const Id = z.string().min(1).max(64);

/**
 * What a mark is drawn on: the screen being shared now, or one page of a slide deck. Shared with the
 * slides: its overlay takes a Surface and the surface's coordinate size.
 */
export const Surface = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('screen') }).strict(),
  z.object({ kind: z.literal('slide'), deckId: Id, page: z.number().int().min(1).max(100_000) }).strict(),
]);
export type Surface = z.infer<typeof Surface>;

/** Two surfaces are the same one. */
export function sameSurface(a: Surface, b: Surface): boolean {
  return a.kind === 'screen' ? b.kind === 'screen' : b.kind === 'slide' && a.deckId === b.deckId && a.page === b.page;
}

/** A stable key for a surface (maps, React keys). */
export function surfaceKey(s: Surface): string {
  return s.kind === 'screen' ? 'screen' : `slide:${s.deckId}:${s.page}`;
}

const Coord = z.number().finite().min(0, 'a point lies outside the surface').max(MAX_SURFACE_COORD, 'a point lies outside the surface');
/** [x, y] in surface units. */
export const Point = z.tuple([Coord, Coord]);
export type Point = z.infer<typeof Point>;

export const MarkText = safeText(
  z.string().trim().min(1, 'the text is empty').max(MAX_MARK_TEXT, `the text is longer than ${MAX_MARK_TEXT} characters`),
  'text',
);

export const MarkTool = z.enum(['pen', 'highlighter', 'arrow', 'rectangle', 'text']);
export type MarkTool = z.infer<typeof MarkTool>;

/** What a client draws: a stroke (pen, highlighter), two corners or ends (arrow, rectangle), or text at a point. */
export const MarkDraft = z.discriminatedUnion('tool', [
  z.object({ tool: z.literal('pen'), points: z.array(Point).min(1).max(MAX_MARK_POINTS, `a stroke has at most ${MAX_MARK_POINTS} points`) }).strict(),
  z.object({ tool: z.literal('highlighter'), points: z.array(Point).min(1).max(MAX_MARK_POINTS, `a stroke has at most ${MAX_MARK_POINTS} points`) }).strict(),
  z.object({ tool: z.literal('arrow'), points: z.tuple([Point, Point]) }).strict(),
  z.object({ tool: z.literal('rectangle'), points: z.tuple([Point, Point]) }).strict(),
  z.object({ tool: z.literal('text'), points: z.tuple([Point]), text: MarkText }).strict(),
]);
export type MarkDraft = z.infer<typeof MarkDraft>;

/** Who drew a mark or points the laser: the seat, its name and its colour (a hue, from the name: personHue). */
export const MarkAuthor = z.object({ id: Id, name: z.string(), hue: z.number().int().min(0).max(359) });
export type MarkAuthor = z.infer<typeof MarkAuthor>;

export const Mark = z.intersection(MarkDraft, z.object({ id: Id, surface: Surface, author: MarkAuthor, at: z.string() }));
export type Mark = MarkDraft & { id: string; surface: Surface; author: MarkAuthor; at: string };

/**
 * Who may annotate: presenters only (the sharing person, presenters and organizers; the default), or
 * anyone in the meeting (the presenter's "let viewers annotate").
 */
export const AnnotatePolicy = z.enum(['presenters', 'anyone']);
export type AnnotatePolicy = z.infer<typeof AnnotatePolicy>;

/** Why marks went away: cleared by someone, the content under them changed, or the screen ended or resized. */
export const MarkRemoval = z.enum(['cleared', 'content', 'screen']);
export type MarkRemoval = z.infer<typeof MarkRemoval>;

/** Line widths and text size in surface units (the same on every viewer, scaled with the view). */
export const MARK_STYLE = { pen: 4, highlighter: 18, arrow: 4, rectangle: 4, text: 24 } as const satisfies Record<MarkTool, number>;

/** A person's colour: a stable hue from the display name (the roster's avatar uses the same). */
export function personHue(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return h;
}
