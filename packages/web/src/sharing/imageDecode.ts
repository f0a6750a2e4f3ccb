/**
 * PNG/JPEG/WebP tile images decoded with no colour management and no premultiplication (lossless tiles
 * must land bit-exact), on the main thread or in a decode worker: WebCodecs' ImageDecoder where the
 * browser has it (3-5x cheaper than createImageBitmap per tile), else createImageBitmap(Blob).
 */
export type ImageSourceLike = CanvasImageSource & { close(): void };

/** Which image types WebCodecs' ImageDecoder takes here (asked once per type). */
const imageDecoderSupport = new Map<string, Promise<boolean>>();
function canImageDecode(type: string): Promise<boolean> {
  let p = imageDecoderSupport.get(type);
  if (!p) {
    p = typeof ImageDecoder === 'undefined' ? Promise.resolve(false) : ImageDecoder.isTypeSupported(type).catch(() => false);
    imageDecoderSupport.set(type, p);
  }
  return p;
}

export async function decodeImage(type: string, data: Uint8Array, useImageDecoder: boolean): Promise<ImageSourceLike> {
  if (useImageDecoder && (await canImageDecode(type))) {
    const decoder = new ImageDecoder({ type, data: data as Uint8Array<ArrayBuffer>, colorSpaceConversion: 'none' });
    try {
      return (await decoder.decode()).image;
    } finally {
      decoder.close();
    }
  }
  const blob = new Blob([data as Uint8Array<ArrayBuffer>], { type });
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

/** The MIME type of an image tile encoding (Png 1, Jpeg 2, Webp 3), or null. */
export function imageType(encoding: number): string | null {
  return encoding === 1 ? 'image/png' : encoding === 2 ? 'image/jpeg' : encoding === 3 ? 'image/webp' : null;
}
