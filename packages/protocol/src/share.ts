/**
 * The binary sharing protocol: screen tiles, cursor and input, one message per binary frame.
 * It runs over any ordered, message-framed channel (a WebSocket to the application sharing server,
 * or a WebRTC DataChannel between two peers), so nothing here knows about the transport.
 *
 * Every frame starts with a one-byte type; integers are big-endian. Decoding validates every size and
 * count, so a malicious peer cannot make the receiver allocate without bound. See docs/protocol.md.
 */
import { SHARE_PROTOCOL_VERSION } from './version.js';

export const ShareType = {
  Auth: 0x00,
  Screen: 0x02,
  Tile: 0x03,
  Frame: 0x04,
  CursorPos: 0x05,
  CursorShape: 0x06,
  Ack: 0x07,
  Refresh: 0x08,
  /** Viewer → relay (or host over a direct channel), relay → host: what the audience can decode (see caps). */
  Caps: 0x09,
  /**
   * Relay → viewer: many `tile` frames in one message (a late joiner's snapshot), so the viewer hands
   * them to a decode worker in one go instead of handling hundreds of messages. Sent only to a viewer
   * whose auth said SHARE_TILES_VERSION or later. See encodeTileBatch().
   */
  Tiles: 0x0a,
  Pointer: 0x10,
  Wheel: 0x11,
  Key: 0x12,
  Clipboard: 0x13,
  ClipboardRefused: 0x14,
} as const;
export type ShareType = (typeof ShareType)[keyof typeof ShareType];

/** How a tile's pixels are encoded. Decoders are looked up in a table keyed by this value. */
export const TileEncoding = {
  /** One colour: payload is 3 bytes RGB. */
  Fill: 0,
  Png: 1,
  Jpeg: 2,
  Webp: 3,
  /** zlib-deflated raw RGB rows (w*h*3 bytes once inflated). */
  ZRgb: 4,
  /**
   * Indexed colour for text and UI: u8 (colours - 1), the palette as RGB triplets, then the zlib-deflated
   * indices, row by row, each row padded to a whole byte, at 1 bit per pixel for 2 colours, 2 for up to
   * 4, 4 for up to 16, 8 for up to 256 (see paletteBits). Smaller than ZRgb and cheaper to inflate.
   */
  Palette: 5,
  /**
   * Pixels the viewer already has, moved (scrolled text, a dragged window): payload u16 srcX, u16 srcY.
   * The w×h rectangle at (srcX, srcY) of the picture as it stood before this frame is copied to the
   * tile's place. At most one Copy tile per frame, and it comes first, so "before this frame" is simply
   * the canvas as it is when the tile is drawn. Only valid for a receiver that drew every frame up to
   * this one: the relay resolves it for the others (see docs/protocol.md).
   */
  Copy: 6,
  /**
   * One access unit of a video stream over the tile's rectangle (a region that changes at video rates).
   * Payload: VIDEO_HEADER_BYTES of header (see videoHeader()), then the bitstream (H.264 Annex B, SPS
   * and PPS in every keyframe). The units of a stream depend on each other: a receiver decodes them
   * in order from a keyframe. Sent only to viewers that said they decode video (`caps`); it is always
   * lossy, and the host refines the rectangle with lossless tiles once it stops moving. Always the
   * last tile of its frame (it overdraws whatever else the frame drew there).
   */
  Video: 7,
} as const;
export type TileEncoding = (typeof TileEncoding)[keyof typeof TileEncoding];

/** Tile flag: the encoding is lossy; a lossless refinement of the same tile will follow once it stays still. */
export const TILE_FLAG_LOSSY = 1;
/**
 * Tile flag: an alternative to the video stream over the same cells, for receivers without video (and
 * recordings). A receiver that is being sent that video stream is not sent these tiles.
 */
export const TILE_FLAG_ALT = 2;

/** Video tile codecs (first byte of a Video payload). */
export const VideoCodec = { H264: 1 } as const;
/** Video tile header flags. */
export const VIDEO_KEY = 1;
/** The stream ends here (no bitstream): its rectangle goes back to tiles. */
export const VIDEO_END = 2;
/** u8 codec, u8 flags, u16 stream id, u32 unit number within the stream. */
export const VIDEO_HEADER_BYTES = 8;
export type VideoHeader = { codec: number; key: boolean; end: boolean; stream: number; seq: number };

/** The header of a Video tile's payload. */
export function videoHeader(data: Uint8Array): VideoHeader {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { codec: data[0]!, key: (data[1]! & VIDEO_KEY) !== 0, end: (data[1]! & VIDEO_END) !== 0, stream: v.getUint16(2), seq: v.getUint32(4) };
}

/** A Video tile's payload: header and bitstream. */
export function videoPayload(h: Omit<VideoHeader, 'codec'> & { codec?: number }, bitstream: Uint8Array): Uint8Array {
  const b = new Uint8Array(VIDEO_HEADER_BYTES + bitstream.length);
  const v = new DataView(b.buffer);
  b[0] = h.codec ?? VideoCodec.H264;
  b[1] = (h.key ? VIDEO_KEY : 0) | (h.end ? VIDEO_END : 0);
  v.setUint16(2, h.stream);
  v.setUint32(4, h.seq >>> 0);
  b.set(bitstream, VIDEO_HEADER_BYTES);
  return b;
}

export const SHARE_LIMITS = {
  maxScreenSide: 8192,
  /** Bounds of the grid's cell size (`screen.tileSize`). */
  minTileSize: 16,
  maxTileSize: 256,
  /**
   * A tile covers a rectangle of whole grid cells (clipped at the screen's edges): each side at most this,
   * and at most maxTilePixels pixels, so a receiver never allocates more than 4 MiB of RGBA for one tile.
   */
  maxTileSide: 2048,
  maxTilePixels: 1024 * 1024,
  maxTilePayload: 512 * 1024,
  maxCursorSide: 256,
  maxKeyString: 32,
  maxTicket: 128,
  /** Bytes of UTF-8 text in one `clipboard` frame: larger text is refused with a clear error, never cut. */
  maxClipboardBytes: 64 * 1024,
  /** Largest frame any endpoint accepts. */
  maxFrame: 600 * 1024,
} as const;

/**
 * A WebRTC DataChannel that carries this protocol directly between the host and one viewer (a
 * peer-to-peer share): its label, and its sub-protocol, which states the protocol version. No `auth`
 * frame travels on it in either direction: the Focus authenticated both peers by relaying their
 * signalling only between the host and its joined peer, and the DTLS fingerprints in that signalling
 * bind the channel to them.
 */
export const SHARE_DATACHANNEL_LABEL = 'baton-share';
export const SHARE_DATACHANNEL_PROTOCOL = `baton-share/${SHARE_PROTOCOL_VERSION}`;
/**
 * A frame larger than the channel's message size (Chromium: 256 KiB) travels in pieces: every piece
 * but the last starts with SHARE_CHUNK, the last with SHARE_CHUNK_END; the receiver joins the
 * payloads after those bytes into one frame (at most SHARE_LIMITS.maxFrame). These bytes are not
 * frame types, and only appear on a DataChannel.
 */
export const SHARE_CHUNK = 0xfe;
export const SHARE_CHUNK_END = 0xff;

export const PointerButton = { Left: 1, Middle: 2, Right: 4, Back: 8, Forward: 16 } as const;

export type ShareMessage =
  | { type: 'auth'; version: number; ticket: string }
  | { type: 'screen'; width: number; height: number; tileSize: number }
  | { type: 'tile'; x: number; y: number; w: number; h: number; encoding: TileEncoding; flags: number; data: Uint8Array }
  /**
   * `hash` (optional, since sharing protocol 4; only in the frame-verification debug mode): the
   * host's frameHash() of the picture after this frame, over the cells it left lossless.
   */
  | { type: 'frame'; seq: number; time: number; hash?: number }
  | { type: 'cursorPos'; x: number; y: number; visible: boolean }
  | { type: 'cursorShape'; w: number; h: number; hotX: number; hotY: number; rgba: Uint8Array }
  | { type: 'ack'; seq: number }
  | { type: 'refresh'; x: number; y: number; w: number; h: number }
  /**
   * What the other end can use. From a viewer: `video` it decodes Video tiles, `tiles` it needs tiles
   * for moving regions (a viewer without WebCodecs). From the relay to the host, for its whole
   * audience: `video` someone decodes video (worth encoding), `tiles` someone (or the recorder) needs
   * the ALT tiles for the moving regions. A host that was never told sends tiles only.
   */
  | { type: 'caps'; video: boolean; tiles: boolean }
  /**
   * Several tiles of one frame in one message, drawn in their order exactly as if each had come alone.
   * Each is a whole `tile` frame; neither Copy nor Video tiles (those read the canvas or a decoder's
   * state, so they keep their own messages and their place in the frame).
   */
  | { type: 'tiles'; tiles: Extract<ShareMessage, { type: 'tile' }>[] }
  | { type: 'pointer'; x: number; y: number; buttons: number }
  | { type: 'wheel'; x: number; y: number; dx: number; dy: number }
  | { type: 'key'; down: boolean; key: string; code: string }
  /**
   * Clipboard text (UTF-8, at most SHARE_LIMITS.maxClipboardBytes): from the controller to the host
   * (put on the host's clipboard), or from the host to the controller alone (the host copied). The
   * relay forwards it only from and to the participant the Focus made controller.
   */
  | { type: 'clipboard'; text: string }
  /**
   * Host → controller: the host did not take or send clipboard text. `off`: the host does not accept
   * clipboard text (`--clipboard off`); `tooLarge`: the host's clipboard holds `size` bytes (at least),
   * over the limit.
   */
  | { type: 'clipboardRefused'; reason: ClipboardRefusal; size: number };

export const CLIPBOARD_REFUSALS = ['off', 'tooLarge'] as const;
export type ClipboardRefusal = (typeof CLIPBOARD_REFUSALS)[number];

export type ShareMessageType = ShareMessage['type'];

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Byte offset of a tile's payload inside an encoded Tile frame. */
export const TILE_HEADER_BYTES = 1 + 8 + 1 + 1;

export function encodeShareMessage(msg: ShareMessage): Uint8Array {
  switch (msg.type) {
    case 'auth': {
      const t = enc.encode(msg.ticket);
      const b = new Uint8Array(2 + t.length);
      b[0] = ShareType.Auth;
      b[1] = msg.version;
      b.set(t, 2);
      return b;
    }
    case 'screen': {
      const b = new Uint8Array(7);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Screen;
      v.setUint16(1, msg.width);
      v.setUint16(3, msg.height);
      v.setUint16(5, msg.tileSize);
      return b;
    }
    case 'tile': {
      const b = new Uint8Array(TILE_HEADER_BYTES + msg.data.length);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Tile;
      v.setUint16(1, msg.x);
      v.setUint16(3, msg.y);
      v.setUint16(5, msg.w);
      v.setUint16(7, msg.h);
      b[9] = msg.encoding;
      b[10] = msg.flags;
      b.set(msg.data, TILE_HEADER_BYTES);
      return b;
    }
    case 'frame': {
      const b = new Uint8Array(msg.hash === undefined ? 13 : 17);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Frame;
      v.setUint32(1, msg.seq >>> 0);
      v.setFloat64(5, msg.time);
      if (msg.hash !== undefined) v.setUint32(13, msg.hash >>> 0);
      return b;
    }
    case 'cursorPos': {
      const b = new Uint8Array(6);
      const v = new DataView(b.buffer);
      b[0] = ShareType.CursorPos;
      v.setUint16(1, msg.x);
      v.setUint16(3, msg.y);
      b[5] = msg.visible ? 1 : 0;
      return b;
    }
    case 'cursorShape': {
      const b = new Uint8Array(9 + msg.rgba.length);
      const v = new DataView(b.buffer);
      b[0] = ShareType.CursorShape;
      v.setUint16(1, msg.w);
      v.setUint16(3, msg.h);
      v.setUint16(5, msg.hotX);
      v.setUint16(7, msg.hotY);
      b.set(msg.rgba, 9);
      return b;
    }
    case 'ack': {
      const b = new Uint8Array(5);
      b[0] = ShareType.Ack;
      new DataView(b.buffer).setUint32(1, msg.seq >>> 0);
      return b;
    }
    case 'refresh': {
      const b = new Uint8Array(9);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Refresh;
      v.setUint16(1, msg.x);
      v.setUint16(3, msg.y);
      v.setUint16(5, msg.w);
      v.setUint16(7, msg.h);
      return b;
    }
    case 'caps':
      return Uint8Array.of(ShareType.Caps, (msg.video ? 1 : 0) | (msg.tiles ? 2 : 0));
    case 'tiles':
      return encodeTileBatch(msg.tiles.map((t) => encodeShareMessage(t)));
    case 'pointer': {
      const b = new Uint8Array(6);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Pointer;
      v.setUint16(1, msg.x);
      v.setUint16(3, msg.y);
      b[5] = msg.buttons;
      return b;
    }
    case 'wheel': {
      const b = new Uint8Array(9);
      const v = new DataView(b.buffer);
      b[0] = ShareType.Wheel;
      v.setUint16(1, msg.x);
      v.setUint16(3, msg.y);
      v.setInt16(5, msg.dx);
      v.setInt16(7, msg.dy);
      return b;
    }
    case 'key': {
      const k = enc.encode(msg.key);
      const c = enc.encode(msg.code);
      const b = new Uint8Array(4 + k.length + c.length);
      b[0] = ShareType.Key;
      b[1] = msg.down ? 1 : 0;
      b[2] = k.length;
      b.set(k, 3);
      b[3 + k.length] = c.length;
      b.set(c, 4 + k.length);
      return b;
    }
    case 'clipboard': {
      const t = enc.encode(msg.text);
      const b = new Uint8Array(1 + t.length);
      b[0] = ShareType.Clipboard;
      b.set(t, 1);
      return b;
    }
    case 'clipboardRefused': {
      const b = new Uint8Array(6);
      b[0] = ShareType.ClipboardRefused;
      b[1] = CLIPBOARD_REFUSALS.indexOf(msg.reason) + 1;
      new DataView(b.buffer).setUint32(2, Math.min(msg.size, 0xffffffff) >>> 0);
      return b;
    }
  }
}

/** Bytes a `tiles` message adds before its tiles (type, u16 count), and before each tile (u32 length). */
export const TILE_BATCH_HEADER_BYTES = 3;
export const TILE_BATCH_ENTRY_BYTES = 4;

/**
 * A `tiles` message from encoded `tile` frames (the relay holds its tiles encoded): u8 type, u16 count,
 * then per tile u32 length and the tile frame. The caller keeps it within SHARE_LIMITS.maxFrame.
 */
export function encodeTileBatch(tileFrames: readonly Uint8Array[]): Uint8Array {
  let size = TILE_BATCH_HEADER_BYTES;
  for (const t of tileFrames) size += TILE_BATCH_ENTRY_BYTES + t.length;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0] = ShareType.Tiles;
  v.setUint16(1, tileFrames.length);
  let o = TILE_BATCH_HEADER_BYTES;
  for (const t of tileFrames) {
    v.setUint32(o, t.length);
    b.set(t, o + TILE_BATCH_ENTRY_BYTES);
    o += TILE_BATCH_ENTRY_BYTES + t.length;
  }
  return b;
}

/** Bytes of `text` as UTF-8 (what counts against SHARE_LIMITS.maxClipboardBytes). */
export function utf8Length(text: string): number {
  return enc.encode(text).length;
}

export class ShareDecodeError extends Error {
  override name = 'ShareDecodeError';
}

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new ShareDecodeError(`${what}: frame too short (${b.length} < ${n} bytes)`);
}
function exact(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new ShareDecodeError(`${what}: expected ${n} bytes, got ${b.length}`);
}

/** Decode and validate one binary frame. Throws ShareDecodeError with a reason on bad input. */
export function decodeShareMessage(b: Uint8Array): ShareMessage {
  if (b.length === 0) throw new ShareDecodeError('empty frame');
  if (b.length > SHARE_LIMITS.maxFrame) throw new ShareDecodeError(`frame of ${b.length} bytes exceeds ${SHARE_LIMITS.maxFrame}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = b[0];
  switch (type) {
    case ShareType.Auth: {
      need(b, 3, 'auth');
      if (b.length - 2 > SHARE_LIMITS.maxTicket) throw new ShareDecodeError('auth: ticket too long');
      return { type: 'auth', version: b[1]!, ticket: utf8(b.subarray(2), 'auth') };
    }
    case ShareType.Screen: {
      exact(b, 7, 'screen');
      const width = v.getUint16(1), height = v.getUint16(3), tileSize = v.getUint16(5);
      if (width < 1 || height < 1 || width > SHARE_LIMITS.maxScreenSide || height > SHARE_LIMITS.maxScreenSide) {
        throw new ShareDecodeError(`screen: size ${width}x${height} out of range`);
      }
      if (tileSize < SHARE_LIMITS.minTileSize || tileSize > SHARE_LIMITS.maxTileSize) throw new ShareDecodeError(`screen: tile size ${tileSize} out of range`);
      return { type: 'screen', width, height, tileSize };
    }
    case ShareType.Tile: {
      need(b, TILE_HEADER_BYTES + 1, 'tile');
      const x = v.getUint16(1), y = v.getUint16(3), w = v.getUint16(5), h = v.getUint16(7);
      const encoding = b[9]!;
      // A Copy tile allocates nothing, and a Video tile's pictures live in the decoder: only their sides are bounded.
      if (w < 1 || h < 1 || w > SHARE_LIMITS.maxTileSide || h > SHARE_LIMITS.maxTileSide || (w * h > SHARE_LIMITS.maxTilePixels && encoding !== TileEncoding.Copy && encoding !== TileEncoding.Video)) {
        throw new ShareDecodeError(`tile: size ${w}x${h} out of range`);
      }
      if (encoding > TileEncoding.Video) throw new ShareDecodeError(`tile: unknown encoding ${encoding}`);
      const data = b.subarray(TILE_HEADER_BYTES);
      if (data.length > SHARE_LIMITS.maxTilePayload) throw new ShareDecodeError('tile: payload too large');
      if (encoding === TileEncoding.Fill && data.length !== 3) throw new ShareDecodeError('tile: fill needs 3 bytes');
      if (encoding === TileEncoding.Palette && data.length < 2 + 3 * (data[0]! + 1)) throw new ShareDecodeError('tile: palette too short');
      if (encoding === TileEncoding.Copy && data.length !== 4) throw new ShareDecodeError('tile: copy needs 4 bytes');
      if (encoding === TileEncoding.Video) {
        if (data.length < VIDEO_HEADER_BYTES) throw new ShareDecodeError('tile: video header too short');
        if (data[0] !== VideoCodec.H264) throw new ShareDecodeError(`tile: unknown video codec ${data[0]}`);
        if (w % 2 !== 0 || h % 2 !== 0) throw new ShareDecodeError(`tile: video ${w}x${h} needs even sides`);
        const end = (data[1]! & VIDEO_END) !== 0;
        if (end !== (data.length === VIDEO_HEADER_BYTES)) throw new ShareDecodeError('tile: a video unit carries a bitstream unless it ends the stream');
      }
      return { type: 'tile', x, y, w, h, encoding: encoding as TileEncoding, flags: b[10]!, data };
    }
    case ShareType.Frame:
      if (b.length === 17) return { type: 'frame', seq: v.getUint32(1), time: v.getFloat64(5), hash: v.getUint32(13) };
      exact(b, 13, 'frame');
      return { type: 'frame', seq: v.getUint32(1), time: v.getFloat64(5) };
    case ShareType.CursorPos:
      exact(b, 6, 'cursorPos');
      return { type: 'cursorPos', x: v.getUint16(1), y: v.getUint16(3), visible: b[5] !== 0 };
    case ShareType.CursorShape: {
      need(b, 9, 'cursorShape');
      const w = v.getUint16(1), h = v.getUint16(3);
      if (w > SHARE_LIMITS.maxCursorSide || h > SHARE_LIMITS.maxCursorSide) throw new ShareDecodeError('cursorShape: too large');
      exact(b, 9 + w * h * 4, 'cursorShape');
      return { type: 'cursorShape', w, h, hotX: v.getUint16(5), hotY: v.getUint16(7), rgba: b.subarray(9) };
    }
    case ShareType.Ack:
      exact(b, 5, 'ack');
      return { type: 'ack', seq: v.getUint32(1) };
    case ShareType.Refresh: {
      exact(b, 9, 'refresh');
      const w = v.getUint16(5), h = v.getUint16(7);
      if (w < 1 || h < 1) throw new ShareDecodeError('refresh: empty rectangle');
      return { type: 'refresh', x: v.getUint16(1), y: v.getUint16(3), w, h };
    }
    case ShareType.Caps:
      exact(b, 2, 'caps');
      return { type: 'caps', video: (b[1]! & 1) !== 0, tiles: (b[1]! & 2) !== 0 };
    case ShareType.Tiles: {
      need(b, TILE_BATCH_HEADER_BYTES, 'tiles');
      const count = v.getUint16(1);
      if (count === 0) throw new ShareDecodeError('tiles: no tiles');
      const tiles: Extract<ShareMessage, { type: 'tile' }>[] = [];
      let o = TILE_BATCH_HEADER_BYTES;
      for (let i = 0; i < count; i++) {
        need(b, o + TILE_BATCH_ENTRY_BYTES, 'tiles');
        const len = v.getUint32(o);
        o += TILE_BATCH_ENTRY_BYTES;
        need(b, o + len, 'tiles');
        if (b[o] !== ShareType.Tile) throw new ShareDecodeError(`tiles: entry ${i} is not a tile`);
        const t = decodeShareMessage(b.subarray(o, o + len)) as Extract<ShareMessage, { type: 'tile' }>;
        if (t.encoding === TileEncoding.Copy || t.encoding === TileEncoding.Video) throw new ShareDecodeError(`tiles: entry ${i} is a ${t.encoding === TileEncoding.Copy ? 'Copy' : 'Video'} tile`);
        tiles.push(t);
        o += len;
      }
      exact(b, o, 'tiles');
      return { type: 'tiles', tiles };
    }
    case ShareType.Pointer:
      exact(b, 6, 'pointer');
      return { type: 'pointer', x: v.getUint16(1), y: v.getUint16(3), buttons: b[5]! & 0x1f };
    case ShareType.Wheel:
      exact(b, 9, 'wheel');
      return { type: 'wheel', x: v.getUint16(1), y: v.getUint16(3), dx: v.getInt16(5), dy: v.getInt16(7) };
    case ShareType.Key: {
      need(b, 4, 'key');
      const kl = b[2]!;
      if (kl > SHARE_LIMITS.maxKeyString) throw new ShareDecodeError('key: key too long');
      need(b, 4 + kl, 'key');
      const cl = b[3 + kl]!;
      if (cl > SHARE_LIMITS.maxKeyString) throw new ShareDecodeError('key: code too long');
      exact(b, 4 + kl + cl, 'key');
      return { type: 'key', down: b[1] !== 0, key: utf8(b.subarray(3, 3 + kl), 'key'), code: utf8(b.subarray(4 + kl), 'key') };
    }
    case ShareType.Clipboard:
      if (b.length - 1 > SHARE_LIMITS.maxClipboardBytes) throw new ShareDecodeError(`clipboard: ${b.length - 1} bytes of text exceed ${SHARE_LIMITS.maxClipboardBytes}`);
      return { type: 'clipboard', text: utf8(b.subarray(1), 'clipboard') };
    case ShareType.ClipboardRefused: {
      exact(b, 6, 'clipboardRefused');
      const reason = CLIPBOARD_REFUSALS[b[1]! - 1];
      if (!reason) throw new ShareDecodeError(`clipboardRefused: unknown reason ${b[1]}`);
      return { type: 'clipboardRefused', reason, size: v.getUint32(2) };
    }
    default:
      throw new ShareDecodeError(`unknown frame type 0x${type!.toString(16).padStart(2, '0')}`);
  }
}

function utf8(b: Uint8Array, what: string): string {
  try {
    return dec.decode(b);
  } catch {
    throw new ShareDecodeError(`${what}: invalid UTF-8`);
  }
}

/** Bits per index of a Palette tile with this many colours (1, 2, 4 or 8). */
export function paletteBits(colours: number): 1 | 2 | 4 | 8 {
  return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
}

/** Bytes of one row of packed Palette indices. */
export function paletteRowBytes(w: number, colours: number): number {
  return Math.ceil((w * paletteBits(colours)) / 8);
}

/*
 * Frame verification (a debug mode: agent BATON_VERIFY_FRAMES=1, viewer option `verifyFrames`). The
 * picture after a frame is hashed over the cells whose newest tile was lossless (no TILE_FLAG_LOSSY; a
 * Copy counts by its flag too), so sender and receiver agree on the set from the tiles alone:
 * - each such cell's hash is cellHash() over its pixels, row by row, as 0xRRGGBB words;
 * - the frame's hash folds, in grid order, the index and cell hash of every such cell (frameHashFold).
 * Both sides keep the cell hashes and recompute only the cells a frame's tiles touched, so the cost
 * follows the changed area, not the screen. A viewer whose hash differs after drawing a whole frame
 * shows a picture the host never had.
 */

/** Hash of one cell's pixels given as 0xRRGGBB words, fed one at a time (start with CELL_HASH_SEED). */
export const CELL_HASH_SEED = 0x811c9dc5;
export function cellHashStep(h: number, rgb: number): number {
  h = Math.imul(h ^ rgb, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Fold one lossless cell (grid index, cell hash) into a frame hash (start with CELL_HASH_SEED). */
export function frameHashFold(h: number, index: number, cell: number): number {
  h = Math.imul(h ^ index, 0x9e3779b1);
  h = Math.imul(h ^ cell, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * The bookkeeping both ends of frame verification share: which cells are exact (newest tile lossless),
 * each exact cell's hash, and the fold over the grid. Only reading the pixels differs (the agent's
 * BGRX capture, the viewer's canvas), so each side hashes the cells `cover()` returns and `set()`s them.
 */
export class CellHashGrid {
  tileSize = 16;
  cols = 0;
  rows = 0;
  width = 0;
  height = 0;
  #cell = new Uint32Array(0);
  /** 1: the newest tile over the cell was lossless, so its pixels are exact on both sides. */
  #exact = new Uint8Array(0);

  /** A new grid: nothing drawn yet, nothing to compare. */
  reset(width: number, height: number, tileSize: number): void {
    this.width = width;
    this.height = height;
    this.tileSize = tileSize;
    this.cols = Math.ceil(width / tileSize);
    this.rows = Math.ceil(height / tileSize);
    this.#cell = new Uint32Array(this.cols * this.rows);
    this.#exact = new Uint8Array(this.cols * this.rows);
  }

  /** Records a frame's tiles (all of them, in order); returns the cells (1) now exact and to be hashed again. */
  cover(tiles: readonly { x: number; y: number; w: number; h: number; flags: number }[]): Uint8Array {
    const ts = this.tileSize, cols = this.cols;
    const stale = new Uint8Array(this.#exact.length);
    for (const t of tiles) {
      const exact = t.flags & TILE_FLAG_LOSSY ? 0 : 1;
      const c1 = Math.min(cols, Math.ceil((t.x + t.w) / ts)), r1 = Math.min(this.rows, Math.ceil((t.y + t.h) / ts));
      for (let r = Math.floor(t.y / ts); r < r1; r++) {
        for (let c = Math.floor(t.x / ts); c < c1; c++) this.#exact[r * cols + c] = stale[r * cols + c] = exact;
      }
    }
    return stale;
  }

  /** The hash of exact cell `index`'s pixels (cellHashStep over them, row by row). */
  set(index: number, hash: number): void {
    this.#cell[index] = hash;
  }

  /** The frame hash: every exact cell folded in grid order. */
  fold(): number {
    // frameHashFold written out in int32: started from the constant (above 2^31, a heap number) and
    // returned as a uint32 per call, the fold kept its hash boxed and cost ~40 ns a cell, 0.3 ms a frame
    // over a 1080p grid at 16 px. `| 0` and `^` keep the same bits; `>>> 0` once at the end.
    const exact = this.#exact, cell = this.#cell;
    let h = CELL_HASH_SEED | 0;
    for (let i = 0; i < exact.length; i++) {
      if (!exact[i]) continue;
      h = Math.imul(h ^ i, 0x9e3779b1 | 0);
      h = Math.imul(h ^ cell[i]!, 0x85ebca6b | 0);
      h ^= h >>> 13;
    }
    return h >>> 0;
  }
}

/** Input messages: only these may travel from a viewer towards the host. */
export function isInputMessage(m: ShareMessage): m is Extract<ShareMessage, { type: 'pointer' | 'wheel' | 'key' }> {
  return m.type === 'pointer' || m.type === 'wheel' || m.type === 'key';
}

/** The source corner of a Copy tile. */
export function copySource(tile: Extract<ShareMessage, { type: 'tile' }>): { x: number; y: number } {
  const d = tile.data;
  return { x: (d[0]! << 8) | d[1]!, y: (d[2]! << 8) | d[3]! };
}

/** The payload of a Copy tile from its source corner. */
export function copyPayload(srcX: number, srcY: number): Uint8Array {
  return Uint8Array.of(srcX >> 8, srcX & 0xff, srcY >> 8, srcY & 0xff);
}
