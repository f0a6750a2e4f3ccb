/**
 * Converts a presentation (pptx, ppt, odp) to PDF with LibreOffice headless from Debian
 * (`libreoffice-impress`, scripts/system-deps.sh), one conversion at a time per node: LibreOffice is
 * heavy (a few hundred MB, most of a core) and a queue keeps a burst of uploads from taking the
 * machine. Each run is sandboxed (Sandbox.ts): a throwaway profile (`-env:UserInstallation`) and
 * output directory in the job's own work directory, no network, a time limit that kills the whole
 * process group, and the PDF's size checked against a limit. A zip-based file (pptx, odp) passes the
 * zip-bomb check (ZipGuard.ts) before LibreOffice sees it.
 */
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestError, ConflictError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { runSandboxed, SandboxError } from './Sandbox.js';
import { checkZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './ZipGuard.js';

export interface SlideConverterOptions {
  /** The LibreOffice binary (default `soffice` on PATH). */
  soffice?: string;
  /** A conversion is killed after this long (default 120 s). */
  timeoutMs?: number;
  /** The PDF it writes, at most (default 200 MB). */
  maxOutputBytes?: number;
  /** Conversions waiting at most; more are refused as busy (default 8). */
  maxQueued?: number;
  zipLimits?: ZipLimits;
}

export type SlideConverterEvents = {
  /** A conversion finished (ms it ran, not counting the wait); metrics and tests read it. */
  converted: [ms: number];
  closed: [];
};

/** OLE2 compound document (legacy .ppt): D0 CF 11 E0 A1 B1 1A E1. */
const OLE_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');

export class SlideConverter extends TypedEmitter<SlideConverterEvents> {
  readonly #opts: Required<Omit<SlideConverterOptions, 'soffice'>> & { soffice: string };
  /** The tail of the queue: each job starts when the one before it settled. */
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #closed = false;

  constructor(opts: SlideConverterOptions = {}) {
    super();
    this.#opts = {
      soffice: opts.soffice ?? 'soffice',
      timeoutMs: opts.timeoutMs ?? 120_000,
      maxOutputBytes: opts.maxOutputBytes ?? 200e6,
      maxQueued: opts.maxQueued ?? 8,
      zipLimits: opts.zipLimits ?? DEFAULT_ZIP_LIMITS,
    };
  }

  /** Conversions running or waiting. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Checks `input` (a file in `workDir`, which the caller owns and removes) and converts it to PDF in
   * `workDir/out`; resolves with the PDF's path.
   */
  async toPdf(input: string, ext: 'pptx' | 'ppt' | 'odp', workDir: string): Promise<string> {
    if (this.#closed) throw new ConflictError('the server is shutting down');
    const size = (await stat(input)).size;
    if (ext === 'ppt') await checkOle(input);
    else await checkZip(input, size, this.#opts.zipLimits);
    if (this.#queued >= this.#opts.maxQueued) throw new ConflictError('the server is converting other presentations; try again in a minute');
    this.#queued++;
    const job = this.#tail.then(() => this.#convert(input, workDir));
    this.#tail = job.catch(() => {});
    try {
      return await job;
    } finally {
      this.#queued--;
    }
  }

  async #convert(input: string, workDir: string): Promise<string> {
    if (this.#closed) throw new ConflictError('the server is shutting down');
    const profile = path.join(workDir, 'profile');
    const out = path.join(workDir, 'out');
    await mkdir(out, { recursive: true });
    let ms: number;
    try {
      const run = await runSandboxed({
        command: this.#opts.soffice,
        args: [
          '--headless', '--invisible', '--norestore', '--nolockcheck', '--nodefault', '--nologo',
          `-env:UserInstallation=file://${profile}`,
          '--convert-to', 'pdf:impress_pdf_Export', '--outdir', out, input,
        ],
        cwd: workDir,
        timeoutMs: this.#opts.timeoutMs,
        env: { SAL_USE_VCLPLUGIN: 'svp' }, // no display, no X
      });
      ms = run.ms;
    } catch (err) {
      if (err instanceof SandboxError && err.reason === 'timeout') throw new BadRequestError(`converting the presentation ${err.message}`);
      if (err instanceof SandboxError && err.reason === 'spawn') throw new ConflictError('this server cannot convert presentations (LibreOffice is not installed); upload a PDF');
      throw new BadRequestError('LibreOffice could not convert the presentation');
    }
    // LibreOffice exits 0 even when it converted nothing: the PDF must be there.
    const pdfs = (await readdir(out)).filter((f) => f.toLowerCase().endsWith('.pdf'));
    if (pdfs.length !== 1) throw new BadRequestError('LibreOffice could not convert the presentation (no PDF came out)');
    const pdf = path.join(out, pdfs[0]!);
    const size = (await stat(pdf)).size;
    if (size > this.#opts.maxOutputBytes) throw new BadRequestError(`the converted presentation is larger than ${Math.round(this.#opts.maxOutputBytes / 1e6)} MB`);
    this.emit('converted', ms);
    return pdf;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('closed');
    this.removeAllListeners();
  }
}

async function checkOle(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    await fh.read(buf, 0, 8, 0);
    if (!buf.equals(OLE_MAGIC)) throw new BadRequestError('this file is not a PowerPoint 97-2003 presentation (.ppt)');
  } finally {
    await fh.close();
  }
}
