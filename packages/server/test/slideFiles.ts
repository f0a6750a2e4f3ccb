/**
 * Decks made in the test, for the slides tests (server and e2e): a PDF with pdf-lib and a PowerPoint
 * file with pptxgenjs, each page carrying a line of text the test then looks for.
 */
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import pptxgen from 'pptxgenjs';

/** A PDF of `texts.length` landscape pages, page i showing texts[i] large and dark on white. */
export async function makePdf(texts: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of texts) {
    const page = doc.addPage([960, 540]);
    page.drawText(text, { x: 60, y: 300, size: 48, font, color: rgb(0.05, 0.05, 0.2) });
  }
  return Buffer.from(await doc.save());
}

/** A .pptx of one slide per text. */
export async function makePptx(texts: string[]): Promise<Buffer> {
  // pptxgenjs is CommonJS with a default export; under ESM interop the class may sit one level down.
  const Ctor = ((pptxgen as unknown as { default?: typeof pptxgen }).default ?? pptxgen) as typeof pptxgen;
  const pres = new Ctor();
  pres.layout = 'LAYOUT_16x9';
  for (const text of texts) {
    const slide = pres.addSlide();
    slide.addText(text, { x: 0.5, y: 2, w: 9, h: 1.2, fontSize: 40, color: '101030', fontFace: 'DejaVu Sans' });
  }
  const out = (await pres.write({ outputType: 'nodebuffer' })) as Buffer;
  return Buffer.from(out);
}
