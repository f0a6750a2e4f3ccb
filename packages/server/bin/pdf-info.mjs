#!/usr/bin/env node
// Opens a PDF with pdf.js (the same parser the browsers use) and prints {"pages": n}. Run by the
// server in a sandboxed child (data/PdfCheck.ts) with a time and memory limit, since the input is
// untrusted: a PDF that pdf.js cannot open is refused before anyone's page tries to.
import { readFile } from 'node:fs/promises';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: pdf-info <file.pdf>\n');
  process.exit(2);
}
try {
  const data = new Uint8Array(await readFile(file));
  const doc = await getDocument({ data, isEvalSupported: false, stopAtErrors: true, disableFontFace: true, useSystemFonts: false, verbosity: 0 }).promise;
  // The first page must parse too: a file with a valid trailer and no drawable page is no deck.
  await doc.getPage(1);
  process.stdout.write(JSON.stringify({ pages: doc.numPages }) + '\n');
  await doc.destroy();
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err?.name ?? 'Error'}: ${err?.message ?? err}\n`);
  process.exit(1);
}
