/**
 * The shared screen decoded in Node, for the video export: the same drawing rules as the web viewer's
 * ScreenView (a frame's tiles are decoded, then drawn together in order; Copy reads the picture as it
 * stands when drawn), into a packed RGB buffer. ZRgb and Palette use @baton/protocol's pixel decoding
 * (the viewer's own), images go through sharp (libvips). The remote cursor is kept apart, as the
 * viewer's overlay is, and blended onto each output frame (copyInto), never into the picture.
 */
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { TileEncoding, copySource, decodeShareMessage, paletteToRgba, zrgbToRgba, type ShareMessage } from '@baton/protocol';

type TileMsg = Extract<ShareMessage, { type: 'tile' }>;
type Draw = (fb: FrameBuffer) => void;

function inflateExact(data: Uint8Array, size: number): Uint8Array {
  const out = inflateSync(data, { maxOutputLength: size + 1 });
  if (out.length !== size) throw new Error(`${out.length} bytes, expected ${size}`);
  return out;
}

export class FrameBuffer {
  width = 0;
  height = 0;
  /** Packed RGB rows. */
  rgb: Buffer = Buffer.alloc(0);
  /** Tiles that could not be decoded (skipped, as the viewer does). */
  errors = 0;
  #batch: Promise<Draw>[] = [];
  #cursor: { w: number; h: number; hotX: number; hotY: number; rgba: Uint8Array } | null = null;
  #pointer = { x: 0, y: 0, visible: false };

  /** Feed one sharing message; resolves true when it completed a frame (the picture changed). */
  async handle(bytes: Uint8Array): Promise<boolean> {
    const msg = decodeShareMessage(bytes);
    switch (msg.type) {
      case 'screen':
        this.#batch = [];
        this.width = msg.width;
        this.height = msg.height;
        this.rgb = Buffer.alloc(msg.width * msg.height * 3);
        return false;
      case 'tile': {
        const p = decodeTile(msg);
        p.catch(() => {});
        this.#batch.push(p);
        return false;
      }
      case 'frame': {
        const batch = this.#batch;
        this.#batch = [];
        for (const r of await Promise.allSettled(batch)) {
          try {
            if (r.status === 'rejected') throw r.reason;
            r.value(this);
          } catch {
            this.errors++;
          }
        }
        return true;
      }
      case 'cursorShape':
        this.#cursor = { w: msg.w, h: msg.h, hotX: msg.hotX, hotY: msg.hotY, rgba: Uint8Array.from(msg.rgba) };
        return false;
      case 'cursorPos':
        this.#pointer = { x: msg.x, y: msg.y, visible: msg.visible };
        return false;
      default:
        return false;
    }
  }

  /** Forget the picture (nobody shares). */
  clear(): void {
    this.#batch = [];
    this.rgb.fill(0);
    this.#pointer = { x: 0, y: 0, visible: false };
  }

  /** Put RGBA (or RGB, `channels` 3) pixels of a w×h image at x,y, clipped to the tile and the screen. */
  put(x: number, y: number, w: number, h: number, src: Uint8Array, srcW: number, channels: number): void {
    const W = this.width;
    const cw = Math.min(w, W - x);
    const ch = Math.min(h, this.height - y);
    for (let row = 0; row < ch; row++) {
      let s = row * srcW * channels;
      let d = ((y + row) * W + x) * 3;
      for (let col = 0; col < cw; col++, s += channels, d += 3) {
        this.rgb[d] = src[s]!;
        this.rgb[d + 1] = src[s + 1]!;
        this.rgb[d + 2] = src[s + 2]!;
      }
    }
  }

  fill(x: number, y: number, w: number, h: number, r: number, g: number, b: number): void {
    const cw = Math.min(w, this.width - x);
    const ch = Math.min(h, this.height - y);
    for (let row = 0; row < ch; row++) {
      let d = ((y + row) * this.width + x) * 3;
      for (let col = 0; col < cw; col++, d += 3) {
        this.rgb[d] = r;
        this.rgb[d + 1] = g;
        this.rgb[d + 2] = b;
      }
    }
  }

  /**
   * The picture as a viewer sees it, into an outW×outH frame: top-left aligned, padded with black
   * (the export's size is the largest screen of the recording, so nothing is clipped), with the
   * cursor blended on top where the host last showed it.
   */
  copyInto(out: Buffer, outW: number, outH: number): void {
    if (outW === this.width && outH === this.height) {
      this.rgb.copy(out);
    } else {
      out.fill(0);
      const w = Math.min(outW, this.width);
      for (let row = 0; row < Math.min(outH, this.height); row++) this.rgb.copy(out, row * outW * 3, row * this.width * 3, (row * this.width + w) * 3);
    }
    this.#drawCursor(out, outW, Math.min(outH, this.height), Math.min(outW, this.width));
  }

  #drawCursor(out: Buffer, outW: number, maxY: number, maxX: number): void {
    const c = this.#cursor;
    if (!c || !this.#pointer.visible || this.width === 0) return;
    const x0 = this.#pointer.x - c.hotX;
    const y0 = this.#pointer.y - c.hotY;
    for (let row = Math.max(0, -y0); row < c.h && y0 + row < maxY; row++) {
      for (let col = Math.max(0, -x0); col < c.w && x0 + col < maxX; col++) {
        const s = (row * c.w + col) * 4;
        const a = c.rgba[s + 3]!;
        if (a === 0) continue;
        const d = ((y0 + row) * outW + x0 + col) * 3;
        for (let k = 0; k < 3; k++) out[d + k] = a === 255 ? c.rgba[s + k]! : Math.round((c.rgba[s + k]! * a + out[d + k]! * (255 - a)) / 255);
      }
    }
  }
}

async function decodeTile(tile: TileMsg): Promise<Draw> {
  const { x, y, w, h } = tile;
  switch (tile.encoding) {
    case TileEncoding.Fill: {
      const [r, g, b] = tile.data;
      return (fb) => fb.fill(x, y, w, h, r!, g!, b!);
    }
    case TileEncoding.Png:
    case TileEncoding.Jpeg:
    case TileEncoding.Webp: {
      const { data, info } = await sharp(tile.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return (fb) => fb.put(x, y, Math.min(w, info.width), Math.min(h, info.height), data, info.width, info.channels);
    }
    case TileEncoding.ZRgb: {
      const rgba = zrgbToRgba(tile.data, w, h, inflateExact);
      return (fb) => fb.put(x, y, w, h, new Uint8Array(rgba.buffer), w, 4);
    }
    case TileEncoding.Palette: {
      const rgba = paletteToRgba(tile.data, w, h, inflateExact);
      return (fb) => fb.put(x, y, w, h, new Uint8Array(rgba.buffer), w, 4);
    }
    case TileEncoding.Copy: {
      const src = copySource(tile);
      return (fb) => {
        if (src.x + w > fb.width || src.y + h > fb.height) throw new Error('copy outside the screen');
        // Read the whole source first: source and destination may overlap.
        const tmp = Buffer.alloc(w * h * 3);
        for (let row = 0; row < h; row++) fb.rgb.copy(tmp, row * w * 3, ((src.y + row) * fb.width + src.x) * 3, ((src.y + row) * fb.width + src.x + w) * 3);
        fb.put(x, y, w, h, tmp, w, 3);
      };
    }
    case TileEncoding.Video:
      // The host sends the same cells as ALT tiles (TILE_FLAG_ALT) for receivers without video,
      // recordings included: those draw the picture here; the H.264 units are not decoded.
      return () => {};
    default:
      throw new Error(`unknown tile encoding ${tile.encoding as number}`);
  }
}
