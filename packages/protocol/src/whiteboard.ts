/**
 * The whiteboard (issue 14 item 2): a Yjs document per conference, carried as binary Yjs updates
 * (base64) over the conference socket. docs/decisions/0005-whiteboard-model.md says why Yjs.
 *
 * The document has one root map, `elements`: element id -> a Y.Map of fields. Every field value is
 * checked against the schemas here, on the server before an update is applied (untrusted clients)
 * and again by the renderer. This module has no Yjs in it: the agent and the protocol package do
 * not need it; the server and the web client bring their own.
 */
import { z } from 'zod';
import { safeText } from './text.js';

/** The board's own coordinates: every viewer sees the same 1920x1080 area, scaled to fit. */
export const BOARD_WIDTH = 1920;
export const BOARD_HEIGHT = 1080;
/** Coordinates an element may use (off the board a little is fine, far away is not). */
export const BOARD_COORD_LIMIT = 20_000;
/** One update at most (bytes, before base64): it must fit in a conference frame (16 KiB) as base64. */
export const MAX_WB_UPDATE_BYTES = 10 * 1024;
/** Elements one board holds at most (deleted ones do not count). */
export const MAX_WB_ELEMENTS = 3000;
/** A stroke's points at most (x and y each count one). */
export const MAX_WB_POINTS = 2000;
export const MAX_WB_TEXT = 1000;
/** The board's stored state at most (bytes); past it the board takes no more (clear some first). */
export const MAX_WB_STATE_BYTES = 8 * 1024 * 1024;
/** The root map's name in the Yjs document. */
export const WB_ROOT = 'elements';

export const WB_ELEMENT_TYPES = ['stroke', 'rect', 'ellipse', 'line', 'arrow', 'text', 'sticky'] as const;
export const WbElementType = z.enum(WB_ELEMENT_TYPES);
export type WbElementType = z.infer<typeof WbElementType>;

/** Element ids: made by clients (random), short and plain. */
export const WbElementId = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'an element id is 1-40 letters, digits, - or _');

const coord = z.number().finite().min(-BOARD_COORD_LIMIT).max(BOARD_COORD_LIMIT);
const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb');

/** Each field an element may have, and what its value may be. Any other field is refused. */
export const WB_FIELDS = {
  type: WbElementType,
  x: coord,
  y: coord,
  /** Size (rect, ellipse, sticky) or the end point relative to x, y (line, arrow): may be negative. */
  w: coord,
  h: coord,
  /** A stroke's points relative to x, y: x0, y0, x1, y1, … whole numbers. */
  points: z.array(z.number().int().min(-BOARD_COORD_LIMIT).max(BOARD_COORD_LIMIT)).max(MAX_WB_POINTS).refine((p) => p.length % 2 === 0, 'points come in x, y pairs'),
  color: colour,
  /** Fill of a shape or a sticky note's paper; 'none' for none. */
  fill: z.union([colour, z.literal('none')]),
  width: z.number().finite().min(1).max(64),
  text: safeText(z.string().max(MAX_WB_TEXT, `text is longer than ${MAX_WB_TEXT} characters`), 'text', { multiline: true }),
  fontSize: z.number().finite().min(8).max(200),
  /** Stacking order: higher on top (ties by id). */
  z: z.number().finite(),
} as const;
export type WbField = keyof typeof WB_FIELDS;
export const WB_FIELD_NAMES = Object.keys(WB_FIELDS) as WbField[];

export function isWbField(name: string): name is WbField {
  return Object.prototype.hasOwnProperty.call(WB_FIELDS, name);
}

/** An element as the renderer takes it: every field checked, missing ones defaulted. */
export const WbElement = z.object({
  id: WbElementId,
  type: WbElementType,
  x: WB_FIELDS.x.default(0),
  y: WB_FIELDS.y.default(0),
  w: WB_FIELDS.w.default(0),
  h: WB_FIELDS.h.default(0),
  points: WB_FIELDS.points.default([]),
  color: WB_FIELDS.color.default('#1b1f27'),
  fill: WB_FIELDS.fill.default('none'),
  width: WB_FIELDS.width.default(3),
  text: WB_FIELDS.text.default(''),
  fontSize: WB_FIELDS.fontSize.default(28),
  z: WB_FIELDS.z.default(0),
});
export type WbElement = z.infer<typeof WbElement>;

/** Who may draw on the whiteboard: anyone in the meeting (default), or presenters and organizers. */
export const WhiteboardPolicy = z.enum(['anyone', 'presenters']);
export type WhiteboardPolicy = z.infer<typeof WhiteboardPolicy>;

/** A Yjs update or state on the wire: base64, at most what a conference frame carries. */
export const WbUpdateB64 = z
  .string()
  .min(4)
  .max(Math.ceil(MAX_WB_UPDATE_BYTES / 3) * 4, `a whiteboard update is at most ${MAX_WB_UPDATE_BYTES} bytes`)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'a whiteboard update is base64');

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
