/**
 * Video tiles (the host's video layer: a region moving at video rates as an H.264 stream) decoded with
 * WebCodecs' VideoDecoder. Unlike every other tile, a unit depends on the ones before it: one decoder
 * lives per stream, configured from the keyframe's SPS, and a unit that does not follow the last one
 * of its stream (which the relay never sends) is refused until the next keyframe. The relay sends
 * these only to a viewer whose `caps` said it decodes video (videoDecodingSupported()).
 */
import { VIDEO_HEADER_BYTES, videoHeader } from '@baton/protocol';
import type { DecodedTile, TileDecoder, TileMessage } from './decoders';

export class VideoDecodeError extends Error {
  override name = 'VideoDecodeError';
}

/** Codec string for a probe and for streams whose keyframe carries no SPS (x264's baseline at level 3.1). */
const DEFAULT_CODEC = 'avc1.42c01f';

let support: Promise<boolean> | undefined;
/** Whether this browser decodes the host's video (H.264 baseline through WebCodecs); asked once per page. */
export function videoDecodingSupported(): Promise<boolean> {
  support ??= (async () => {
    if (typeof VideoDecoder === 'undefined' || typeof EncodedVideoChunk === 'undefined') return false;
    try {
      const r = await VideoDecoder.isConfigSupported({ codec: DEFAULT_CODEC, codedWidth: 1280, codedHeight: 720, optimizeForLatency: true });
      return r.supported === true;
    } catch {
      return false;
    }
  })();
  return support;
}

/** `avc1.PPCCLL` from the first SPS of an Annex B access unit (profile, constraint flags, level). */
export function h264CodecString(au: Uint8Array): string | null {
  for (let i = 0; i + 4 < au.length; i++) {
    if (au[i] !== 0 || au[i + 1] !== 0 || au[i + 2] !== 1) continue;
    if ((au[i + 3]! & 0x1f) === 7 && i + 6 < au.length) {
      const hex = (b: number) => b.toString(16).padStart(2, '0');
      return `avc1.${hex(au[i + 4]!)}${hex(au[i + 5]!)}${hex(au[i + 6]!)}`;
    }
  }
  return null;
}

export type VideoRect = { x: number; y: number; w: number; h: number };

/**
 * May a frame leave its video units undrawn? Yes when the frame after it, already received, begins with
 * a video unit covering each of them: that unit is drawn before anything else of its frame and
 * overdraws the rectangle whole, so the canvas after that frame is the same either way (the units are
 * still decoded: every unit of a stream depends on the ones before it). Drawing a 720p VideoFrame
 * into the 2D canvas costs a software viewer about as much CPU as decoding three of them, and a
 * viewer behind the host has the next frame waiting more often than not.
 */
export function overdrawnVideo(video: Iterable<VideoRect>, next: VideoRect | null): boolean {
  if (!next) return false;
  for (const r of video) if (r.x < next.x || r.y < next.y || r.x + r.w > next.x + next.w || r.y + r.h > next.y + next.h) return false;
  return true;
}

type Waiter = { resolve: (f: VideoFrame) => void; reject: (e: Error) => void };
type Stream = { id: number; decoder: VideoDecoder; next: number; waiting: Waiter[]; broken: Error | null };

const NOTHING = (): void => {};

export class VideoTileDecoder {
  #stream: Stream | null = null;
  /** Units decoded into pictures (for stats and tests). */
  decoded = 0;

  /** The TileDecoder for TileEncoding.Video. */
  readonly decode: TileDecoder = (tile) => this.#decode(tile);

  close(): void {
    this.#close(new VideoDecodeError('the view closed'));
  }

  #decode(tile: TileMessage): Promise<DecodedTile> {
    const h = videoHeader(tile.data);
    if (h.end) {
      if (this.#stream?.id === h.stream) this.#close(null);
      return Promise.resolve({ draw: NOTHING, release: NOTHING });
    }
    const bitstream = tile.data.subarray(VIDEO_HEADER_BYTES);
    let s = this.#stream;
    if (h.key) {
      this.#close(null);
      if (typeof VideoDecoder === 'undefined') return Promise.reject(new VideoDecodeError('this browser has no VideoDecoder'));
      const stream: Stream = { id: h.stream, decoder: null as unknown as VideoDecoder, next: h.seq, waiting: [], broken: null };
      stream.decoder = new VideoDecoder({
        output: (frame) => {
          this.decoded++;
          const w = stream.waiting.shift();
          if (w) w.resolve(frame);
          else frame.close();
        },
        error: (err) => this.#fail(stream, new VideoDecodeError(`video decoder: ${err.message}`)),
      });
      try {
        stream.decoder.configure({ codec: h264CodecString(bitstream) ?? DEFAULT_CODEC, codedWidth: tile.w, codedHeight: tile.h, optimizeForLatency: true });
      } catch (err) {
        return Promise.reject(new VideoDecodeError(`cannot configure the video decoder: ${(err as Error).message}`));
      }
      this.#stream = s = stream;
    } else if (!s || s.id !== h.stream || h.seq !== s.next || s.broken) {
      return Promise.reject(new VideoDecodeError(`video unit ${h.seq} of stream ${h.stream} without the units before it`));
    }
    const stream = s;
    stream.next = h.seq + 1;
    const picture = new Promise<VideoFrame>((resolve, reject) => stream.waiting.push({ resolve, reject }));
    try {
      stream.decoder.decode(new EncodedVideoChunk({ type: h.key ? 'key' : 'delta', timestamp: h.seq * 40_000, data: bitstream }));
    } catch (err) {
      this.#fail(stream, new VideoDecodeError(`cannot decode video unit ${h.seq}: ${(err as Error).message}`));
    }
    return picture.then((frame) => ({
      draw(ctx) {
        ctx.drawImage(frame, tile.x, tile.y, tile.w, tile.h);
      },
      release: () => frame.close(),
    }));
  }

  /** The decoder failed: every picture waited for fails, and the stream waits for its next keyframe. */
  #fail(stream: Stream, err: Error): void {
    stream.broken = err;
    for (const w of stream.waiting.splice(0)) w.reject(err);
  }

  #close(err: Error | null): void {
    const s = this.#stream;
    if (!s) return;
    this.#stream = null;
    // Pictures still on their way are delivered before the decoder goes (flush), then it is closed.
    const decoder = s.decoder;
    const done = (): void => {
      for (const w of s.waiting.splice(0)) w.reject(err ?? new VideoDecodeError('the stream ended'));
      if (decoder.state !== 'closed') decoder.close();
    };
    if (err || decoder.state !== 'configured') return done();
    decoder.flush().then(done, done);
  }
}
