/**
 * A presentation (PPTX, ODP) is a zip archive; before LibreOffice unpacks one we make sure it is not a
 * zip bomb. The central directory is read with yauzl and refused when it has too many entries, when
 * the sizes it declares add up to too much, or when it expands too far for its size. A declared size
 * can lie, so each entry is then inflated and counted (and yauzl checks it against what was declared),
 * stopping at the first byte past the limit: nothing is written to disk.
 */
import yauzl from 'yauzl';
import { BadRequestError } from '../errors.js';

export interface ZipLimits {
  /** Entries at most (a real deck has a few hundred). */
  maxEntries: number;
  /** All entries together, uncompressed, at most this many bytes. */
  maxUncompressedBytes: number;
  /** Uncompressed over compressed size of the whole archive, at most. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 5000, maxUncompressedBytes: 300e6, maxRatio: 100 };

export class ZipBombError extends BadRequestError {
  override name = 'ZipBombError';
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, zip) => (err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip))),
  );
}

/** Resolves when `file` is a zip within the limits; throws a BadRequestError saying why not. */
export async function checkZip(file: string, fileSize: number, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<{ entries: number; uncompressed: number }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    throw new BadRequestError(`the presentation is not a valid PowerPoint or OpenDocument file (${(err as Error).message})`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw new ZipBombError(`the presentation has ${zip.entryCount} parts; at most ${limits.maxEntries} are accepted`);
    // First pass: what the central directory declares.
    const entries: yauzl.Entry[] = [];
    let declared = 0;
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        entries.push(e);
        declared += e.uncompressedSize;
        zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    }).catch((err: Error) => {
      throw new BadRequestError(`the presentation is not a valid zip archive (${err.message})`);
    });
    tooBig(declared, fileSize, limits);
    // Second pass: inflate and count, in case the declared sizes lie.
    let actual = 0;
    for (const e of entries) {
      if (e.fileName.endsWith('/')) continue;
      await new Promise<void>((resolve, reject) => {
        zip.openReadStream(e, (err, stream) => {
          if (err || !stream) return reject(new BadRequestError(`the presentation has a damaged part (${err?.message ?? 'unreadable'})`));
          stream.on('data', (chunk: Buffer) => {
            actual += chunk.length;
            try {
              tooBig(actual, fileSize, limits);
            } catch (bomb) {
              stream.destroy();
              reject(bomb);
            }
          });
          stream.on('end', () => resolve());
          stream.on('error', (e2: Error) => reject(e2 instanceof BadRequestError ? e2 : new BadRequestError(`the presentation has a damaged part (${e2.message})`)));
        });
      });
    }
    return { entries: entries.length, uncompressed: actual };
  } finally {
    zip.close();
  }
}

function tooBig(uncompressed: number, fileSize: number, limits: ZipLimits): void {
  if (uncompressed > limits.maxUncompressedBytes) {
    throw new ZipBombError(`the presentation unpacks to more than ${Math.round(limits.maxUncompressedBytes / 1e6)} MB; refused as a possible zip bomb`);
  }
  // Small files compress well too: the ratio only counts once there is something to speak of.
  if (uncompressed > 10e6 && uncompressed / Math.max(fileSize, 1) > limits.maxRatio) {
    throw new ZipBombError(`the presentation expands more than ${limits.maxRatio} times its size; refused as a possible zip bomb`);
  }
}
