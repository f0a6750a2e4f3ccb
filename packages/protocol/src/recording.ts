/**
 * Recordings: the screen file's record format (written by the server, read by the browser's replay
 * page and the server's video export) and the REST shapes. docs/architecture/recording.md, "Recording".
 *
 * The screen file is the sharing relay's host stream as it arrived, byte for byte (no re-encoding),
 * each message behind a 13-byte header: u8 kind, u32 length, f64 time (ms since the recording
 * started), all big-endian. A keyframe is a run of `Keyframe` records (screen, every tile behind the
 * current picture oldest first, the frame that ends it, the cursor) taken from the relay's tile store
 * right after a frame, so a player that seeks starts from the keyframe before the time and applies the
 * `Live` records after it. `ShareEnded` (no payload) says nobody shares from then on.
 */
import { z } from 'zod';

export const RecordKind = { Live: 0, Keyframe: 1, ShareEnded: 2 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];
export const RECORD_HEADER = 13;

export function encodeRecordHeader(kind: RecordKind, length: number, t: number): Uint8Array {
  const b = new Uint8Array(RECORD_HEADER);
  const v = new DataView(b.buffer);
  v.setUint8(0, kind);
  v.setUint32(1, length);
  v.setFloat64(5, t);
  return b;
}

export interface ScreenRecord {
  kind: RecordKind;
  /** ms since the recording started. */
  t: number;
  /** A sharing-protocol message (empty for ShareEnded). */
  bytes: Uint8Array;
  /** Offset of the record's header in the bytes read. */
  offset: number;
}

export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
}

/** The whole records in `data`, in order; a record cut off at the end is left out (`rest` says where it starts). */
export function readRecords(data: Uint8Array): { records: ScreenRecord[]; rest: number } {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: ScreenRecord[] = [];
  let o = 0;
  while (o + RECORD_HEADER <= data.byteLength) {
    const kind = v.getUint8(o);
    if (kind > 2) throw new RecordFormatError(`unknown record kind ${kind} at ${o}`);
    const length = v.getUint32(o + 1);
    if (o + RECORD_HEADER + length > data.byteLength) break;
    records.push({ kind: kind as RecordKind, t: v.getFloat64(o + 5), bytes: data.subarray(o + RECORD_HEADER, o + RECORD_HEADER + length), offset: o });
    o += RECORD_HEADER + length;
  }
  return { records, rest: o };
}

/**
 * A place a player can start from: a keyframe (`offset` of its first record), or the moment a share
 * ended (`blank`: nothing to show until the next keyframe). `fresh`: the first picture of a share (or
 * of a new screen size), which a player going on from before must apply; a periodic one it may skip.
 */
export const RecordingSeekPoint = z.object({ t: z.number(), offset: z.number().int(), blank: z.boolean().optional(), fresh: z.boolean().optional() });
export type RecordingSeekPoint = z.infer<typeof RecordingSeekPoint>;

export const RecordedChat = z.object({ senderName: z.string(), senderUser: z.string().nullable(), text: z.string(), at: z.string() });
export const RecordingEvent = z.discriminatedUnion('type', [
  z.object({ t: z.number(), type: z.literal('chat'), message: RecordedChat }),
  /** Who was there when the recording started. */
  z.object({ t: z.number(), type: z.literal('roster'), people: z.array(z.object({ id: z.string(), name: z.string() })) }),
  z.object({ t: z.number(), type: z.literal('joined'), id: z.string(), name: z.string() }),
  z.object({ t: z.number(), type: z.literal('left'), id: z.string(), name: z.string() }),
  z.object({ t: z.number(), type: z.literal('share'), started: z.boolean(), name: z.string() }),
  /**
   * The audio mixer began (started) or stopped writing one segment of the mix, `file` in the
   * recording's directory; the server joins the segments into one track (audio.webm) at the end.
   */
  // `lead`: how long the segment had been written when this was logged (its true start is t - lead).
  z.object({ t: z.number(), type: z.literal('audio'), file: z.string(), started: z.boolean(), lead: z.number().nonnegative().optional() }),
  /** The mix could not be recorded (e.g. Janus runs on another machine); `reason` is for people. */
  z.object({ t: z.number(), type: z.literal('audio.unavailable'), reason: z.string() }),
  /** The recording ended; `reason` when it was not asked to (size limit, disk full…). */
  z.object({ t: z.number(), type: z.literal('end'), reason: z.string().optional() }),
]);
export type RecordingEvent = z.infer<typeof RecordingEvent>;

export const RecordingStatus = z.enum(['recording', 'done', 'failed']);
export type RecordingStatus = z.infer<typeof RecordingStatus>;

export const ExportFormat = z.enum(['webm', 'mkv']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** A video export: running (progress 0-1), done (download it), or failed (why). */
export const ExportState = z.object({
  format: ExportFormat,
  status: z.enum(['running', 'done', 'failed']),
  progress: z.number(),
  bytes: z.number().optional(),
  error: z.string().optional(),
});
export type ExportState = z.infer<typeof ExportState>;

export const RecordingResource = z.object({
  id: z.string(),
  conferenceId: z.string(),
  subject: z.string(),
  /** The meeting's organizer (username), who owns the recording. */
  organizer: z.string(),
  startedBy: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number(),
  bytes: z.number(),
  status: RecordingStatus,
  /** Why it stopped when nobody asked it to. */
  note: z.string().nullable(),
  hasAudio: z.boolean(),
  /** May this user share, export and delete it (the organizer or whoever started it). */
  manage: z.boolean(),
  /** Usernames it is shared with (only to whoever may manage it). */
  sharedWith: z.array(z.string()),
  exports: z.array(ExportState),
});
export type RecordingResource = z.infer<typeof RecordingResource>;

export const RecordingList = z.object({ recordings: z.array(RecordingResource) });
export type RecordingList = z.infer<typeof RecordingList>;

/** What the replay page needs besides the screen bytes. */
export const RecordingIndex = z.object({
  recording: RecordingResource,
  seekPoints: z.array(RecordingSeekPoint),
  /** Bytes of the screen file. */
  screenBytes: z.number().int(),
  events: z.array(RecordingEvent),
});
export type RecordingIndex = z.infer<typeof RecordingIndex>;

export const ShareRecordingRequest = z.object({ users: z.array(z.string().min(1).max(64)).min(1).max(50) }).strict();
export type ShareRecordingRequest = z.infer<typeof ShareRecordingRequest>;
export const UnshareRecordingRequest = ShareRecordingRequest;

export const ExportRequest = z.object({ format: ExportFormat.default('webm') }).strict();
export type ExportRequest = z.infer<typeof ExportRequest>;

/** GET /api/recordings/:id/screen?from=&to=: a byte range of the screen file (whole records). */
export const ScreenRangeQuery = z.object({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) }).strict();
