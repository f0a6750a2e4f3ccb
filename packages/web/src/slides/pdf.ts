/**
 * pdf.js for the slides, loaded on first use (it is large) and made to live with our strict CSP:
 * its worker is a file of our own build served from our origin (Vite emits it under /assets), it
 * never evaluates code (`isEvalSupported: false`: fonts are drawn from their outlines, not compiled
 * functions), and embedded fonts are loaded through the FontFace API from bytes, which needs no
 * font-src beyond 'self'. Character maps and the standard fonts' data come from /pdfjs/ on our
 * origin (copied there by the build, vite.config.ts); WebAssembly image decoders (JPEG 2000) are not
 * served, since the CSP has no 'wasm-unsafe-eval'.
 * The legacy build carries the polyfills that older Safari and Firefox need.
 */
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';

type PdfJs = typeof import('pdfjs-dist');
let lib: Promise<PdfJs> | null = null;

export function pdfjs(): Promise<PdfJs> {
  lib ??= (import('pdfjs-dist/legacy/build/pdf.mjs') as Promise<PdfJs>).then((m) => {
    m.GlobalWorkerOptions.workerSrc = workerUrl;
    return m;
  });
  return lib;
}

/** One open document per deck (decks never change: the id names its bytes). */
const docs = new Map<string, Promise<PDFDocumentProxy>>();

export function openDeck(deckId: string, url: string): Promise<PDFDocumentProxy> {
  let doc = docs.get(deckId);
  if (!doc) {
    doc = pdfjs().then((m) => m.getDocument({ url, isEvalSupported: false, useSystemFonts: true, cMapUrl: '/pdfjs/cmaps/', cMapPacked: true, standardFontDataUrl: '/pdfjs/standard_fonts/' }).promise);
    doc.catch(() => docs.delete(deckId)); // a failed load may be tried again
    docs.set(deckId, doc);
  }
  return doc;
}
