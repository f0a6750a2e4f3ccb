/**
 * Is this upload a PDF we will show? The first bytes must say `%PDF-` (a renamed Word file or HTML
 * page is refused at once, with a clear error), and pdf.js must open it and its first page in a
 * sandboxed child (bin/pdf-info.mjs: a time limit, a heap limit, no network), which also counts the
 * pages against the limit. The browsers then parse the same file with the same library.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRequestError } from '../errors.js';
import { runSandboxed, SandboxError } from './Sandbox.js';

/** bin/pdf-info.mjs: the same two levels up from src/data and from dist/data. */
const PDF_INFO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/pdf-info.mjs');

export class NotAPdfError extends BadRequestError {
  override name = 'NotAPdfError';
}

/** The PDF header may follow some junk, but within the first 1024 bytes (as readers accept it). */
export async function hasPdfMagic(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).includes('%PDF-');
  } finally {
    await fh.close();
  }
}

export interface PdfCheckOptions {
  maxPages: number;
  timeoutMs?: number;
  /** The checker's V8 heap, in MB. */
  heapMb?: number;
}

/** The page count of a PDF that pdf.js opens; throws NotAPdfError (or a limit's BadRequestError). */
export async function checkPdf(file: string, opts: PdfCheckOptions): Promise<{ pages: number }> {
  if (!(await hasPdfMagic(file))) throw new NotAPdfError('this file is not a PDF (it does not start with %PDF-)');
  let out: string;
  try {
    const run = await runSandboxed({
      command: process.execPath,
      args: [`--max-old-space-size=${opts.heapMb ?? 512}`, PDF_INFO, path.resolve(file)],
      cwd: path.dirname(path.resolve(file)),
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxStdoutBytes: 4096,
    });
    out = run.stdout;
  } catch (err) {
    if (err instanceof SandboxError && err.reason === 'timeout') throw new NotAPdfError('the PDF took too long to open; refused');
    if (err instanceof SandboxError && err.reason === 'spawn') throw err;
    throw new NotAPdfError(`this PDF cannot be opened (${lastLine(err)})`);
  }
  const pages = Number((JSON.parse(out) as { pages?: unknown }).pages);
  if (!Number.isInteger(pages) || pages < 1) throw new NotAPdfError('this PDF has no pages');
  if (pages > opts.maxPages) throw new BadRequestError(`the deck has ${pages} pages; at most ${opts.maxPages} are accepted`);
  return { pages };
}

function lastLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^.*?failed \([^)]*\): /, '').slice(0, 200) || 'unreadable';
}
