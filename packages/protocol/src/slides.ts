/**
 * Slides (issue 14 item 3): decks the presenter uploads (a PDF, or a PowerPoint/ODP file the server
 * converts to PDF), and which page of which deck the meeting is on. Every page renders the deck's
 * PDF with pdf.js; viewers follow `current`, and may look at other pages privately meanwhile.
 * Who may upload and turn pages: the meeting's `present` policy (as for sharing a screen).
 */
import { z } from 'zod';

/** The extensions taken as a deck: a PDF as is, the others converted with LibreOffice on the server. */
export const SLIDE_EXTENSIONS = ['pdf', 'pptx', 'ppt', 'odp'] as const;
/** A deck with more pages than this is refused. */
export const MAX_SLIDE_PAGES = 500;
/** Decks a meeting holds at most. */
export const MAX_DECKS_PER_CONFERENCE = 50;

const Id = z.string().min(1).max(64);

export const SlideDeck = z.object({
  id: Id,
  /** The uploaded file's name (sanitized with safeFileName). */
  name: z.string(),
  pages: z.number().int().min(1),
  /** The PDF's size in bytes. */
  size: z.number().int(),
  /** Converted from a presentation (pptx, ppt, odp) rather than uploaded as a PDF. */
  converted: z.boolean(),
  by: z.object({ name: z.string(), user: z.string().nullable() }),
  at: z.string(),
});
export type SlideDeck = z.infer<typeof SlideDeck>;

export const SlidesState = z.object({
  decks: z.array(SlideDeck),
  /** The deck and page (1-based) everyone follows; null: no deck is shown. */
  current: z.object({ deckId: Id, page: z.number().int().min(1) }).nullable(),
});
export type SlidesState = z.infer<typeof SlidesState>;

/** Where a deck's PDF is read from (the deck id is the capability, as a shared file's is). */
export function slideDeckUrl(deckId: string): string {
  return `/api/slides/${encodeURIComponent(deckId)}/deck.pdf`;
}

/** The lower-case extension of a file name, if it is one a deck may have. */
export function slideExtension(name: string): (typeof SLIDE_EXTENSIONS)[number] | null {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  return (SLIDE_EXTENSIONS as readonly string[]).includes(ext) ? (ext as (typeof SLIDE_EXTENSIONS)[number]) : null;
}
