/**
 * End to end, issue 14 item 3: slides in Chromium, under the server's strict CSP. The organizer
 * switches the stage to Slides and uploads a PDF made in the test (pdf-lib); a guest's page follows
 * page changes and shows each page's text (pdf.js text layer) and dark pixels on the canvas; the
 * guest pages ahead privately and goes back with Follow; a late joiner starts on the current page;
 * the presenter draws on a page and the viewer sees the mark on that page only;
 * a .pptx made in the test (pptxgenjs) is converted by LibreOffice on the server and shown; a "PDF"
 * that is not one is refused with the server's reason; a guest is refused by the server. No CSP
 * violation, no page error. Screenshots at 1280x720 and 390x844.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TestClient, createConference, signUp } from '../../packages/server/test/support.js';
import { makePdf, makePptx } from '../../packages/server/test/slideFiles.js';
import { haveBrowserAndX } from '../support/browser.js';
import { BrowserMeeting } from '../support/meeting.js';

const OK = haveBrowserAndX('tests/e2e/slides.e2e.test.ts');
const SOFFICE = spawnSync('sh', ['-c', 'command -v soffice'], { stdio: 'ignore' }).status === 0;
if (!SOFFICE && process.env.CI === 'true') throw new Error('LibreOffice (soffice) is required for the slides e2e under CI=true: run scripts/system-deps.sh');
const poll = <T>(fn: () => T | Promise<T>, timeout = 60_000) => expect.poll(fn, { timeout });
const SHOTS = path.join(tmpdir(), 'baton-slides');

describe.skipIf(!OK)('slides in the browser', { timeout: 300_000 }, () => {
  let meeting: BrowserMeeting;
  let conf: string;
  let aliceCookie: string;
  let alice: Page;
  let gus: Page;

  const joinAsGuest = async (name: string, viewport?: { width: number; height: number }) => {
    const p = await meeting.open(null, viewport);
    await p.goto(`${meeting.url}/m/${conf}`);
    await meeting.guestJoins(p, name);
    return p;
  };
  /** The page number a page shows, once pdf.js has drawn it and its text layer. */
  const rendered = (p: Page) => p.getByTestId('slide-page').getAttribute('data-rendered');
  const shownPage = async (p: Page) => Number((await rendered(p))?.split(':')[1] ?? 0);
  const text = (p: Page) => p.getByTestId('slide-text').textContent();
  /** Dark pixels on the slide's canvas: the text is drawn, not only laid out. */
  const darkPixels = (p: Page) =>
    p.getByTestId('slide-canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! < 80 && d[i + 1]! < 80 && d[i + 2]! < 120) n++;
      return n;
    });

  beforeAll(async () => {
    meeting = await BrowserMeeting.start({
      tmpPrefix: 'baton-slides-e2e-',
      context: { locale: 'en-US' },
      timeout: 60_000,
      // A CSP violation shows as a console error ("Refused to …"): pdf.js must need no eval, no foreign worker.
      onPage: (page, pageErrors) =>
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) pageErrors.push(m.text());
        }),
    });
    aliceCookie = await signUp(meeting.url, 'alice');
    conf = await createConference(meeting.url, aliceCookie, { guests: 'allow' }, 'Slides demo');
    alice = await meeting.open(aliceCookie);
    await alice.goto(`${meeting.url}/m/${conf}`);
    gus = await joinAsGuest('Gus');
    await alice.getByTestId('roster-Gus').waitFor();
  }, 180_000);

  afterAll(() => meeting?.close());

  it('the presenter uploads a PDF; the viewer follows page changes and sees each page\'s text', async () => {
    await alice.getByTestId('stage-tab-slides').click();
    await gus.getByTestId('slides-empty').waitFor();
    expect(await gus.getByTestId('slides-upload').count()).toBe(0); // a guest may not present

    // Not a PDF: refused with the server's reason, shown to the presenter.
    await alice.getByTestId('slides-upload-input').setInputFiles({ name: 'fake.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html>not a pdf</html>') });
    await poll(() => alice.getByTestId('slides-upload-error').textContent()).toBe('this file is not a PDF (it does not start with %PDF-)');

    const pdf = await makePdf(['Alpha page one', 'Beta page two', 'Gamma page three']);
    await alice.getByTestId('slides-upload-input').setInputFiles({ name: 'Quarterly.pdf', mimeType: 'application/pdf', buffer: pdf });
    for (const p of [alice, gus]) await poll(() => shownPage(p)).toBe(1);
    expect(await text(gus)).toContain('Alpha page one');
    expect(await darkPixels(gus)).toBeGreaterThan(500);
    expect(await gus.getByTestId('slides-page-label').textContent()).toBe('Page 1 of 3');
    // pdf.js's character maps and standard fonts come from our origin (the CSP allows no other).
    for (const f of ['pdfjs/cmaps/Adobe-Japan1-UCS2.bcmap', 'pdfjs/standard_fonts/LiberationSans-Regular.ttf']) expect((await fetch(`${meeting.url}/${f}`)).status).toBe(200);

    await alice.getByTestId('slides-next').click();
    await poll(() => shownPage(gus)).toBe(2);
    expect(await text(gus)).toContain('Beta page two');
    expect(await text(gus)).not.toContain('Alpha');
    expect(await darkPixels(gus)).toBeGreaterThan(500);
    await gus.screenshot({ path: path.join(SHOTS, 'viewer-page2-1280x720.png') });
    await alice.screenshot({ path: path.join(SHOTS, 'presenter-page2-1280x720.png') });
  });

  it('the viewer browses ahead privately and goes back with Follow; the presenter is not moved', async () => {
    await gus.getByTestId('slides-next').click();
    await poll(() => shownPage(gus)).toBe(3);
    expect(await text(gus)).toContain('Gamma page three');
    expect(await gus.getByTestId('slides-private').textContent()).toBe('The presenter is on page 2');
    expect(await shownPage(alice)).toBe(2);
    expect(await alice.getByTestId('slides-follow').count()).toBe(0);

    // The presenter moves on to page 1: the viewer stays on 3 and is told.
    await alice.getByTestId('slides-prev').click();
    await poll(() => gus.getByTestId('slides-private').textContent()).toBe('The presenter is on page 1');
    expect(await shownPage(gus)).toBe(3);

    await gus.getByTestId('slides-follow').click();
    await poll(() => shownPage(gus)).toBe(1);
    expect(await gus.getByTestId('slides-follow').count()).toBe(0);
    expect(await text(gus)).toContain('Alpha page one');
  });

  it('the presenter draws on a slide: the viewer sees the mark on that page only, at the same spot', async () => {
    expect(await gus.getByTestId('annotate-pen').count()).toBe(0); // viewers may not annotate by default
    await alice.getByTestId('annotate-pen').click();
    const box = (await alice.getByTestId('slide-canvas').boundingBox())!;
    const a = { x: box.x + box.width * 0.3, y: box.y + box.height * 0.7 };
    const b = { x: box.x + box.width * 0.7, y: box.y + box.height * 0.8 };
    await alice.mouse.move(a.x, a.y);
    await alice.mouse.down();
    for (let i = 1; i <= 10; i++) await alice.mouse.move(a.x + ((b.x - a.x) * i) / 10, a.y + ((b.y - a.y) * i) / 10);
    await alice.mouse.up();
    await alice.getByTestId('annotate-off').click();
    const deckId = (await gus.getByTestId('slides-view').getAttribute('data-deck'))!;
    const overlay = gus.getByTestId('annotation-overlay');
    await poll(() => overlay.getAttribute('data-marks')).toBe('1');
    expect(await overlay.getAttribute('data-surface')).toBe(`slide:${deckId}:1`);
    // The stroke's middle, in page fractions, is coloured on the viewer's overlay too.
    const lit = await overlay.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(Math.round(c.width * 0.5), Math.round(c.height * 0.75), 1, 1).data;
      return d[3]! > 0;
    });
    expect(lit).toBe(true);
    await gus.screenshot({ path: path.join(SHOTS, 'viewer-annotated-1280x720.png') });
    await alice.getByTestId('slides-next').click();
    await poll(() => shownPage(gus)).toBe(2);
    await poll(() => gus.getByTestId('annotation-overlay').getAttribute('data-marks')).toBe('0');
    await alice.getByTestId('slides-prev').click();
    await poll(() => gus.getByTestId('annotation-overlay').getAttribute('data-marks')).toBe('1');
  });

  it('a late joiner starts on the current page; the server refuses a guest who tries to present', async () => {
    await alice.getByTestId('slides-next').click();
    await poll(() => shownPage(gus)).toBe(2);
    const late = await joinAsGuest('Lena', { width: 390, height: 844 });
    await poll(() => late.getByTestId('stage-area').getAttribute('data-view')).toBe('slides');
    await poll(() => shownPage(late)).toBe(2);
    expect(await text(late)).toContain('Beta page two');
    expect(await late.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await late.screenshot({ path: path.join(SHOTS, 'late-joiner-phone-390x844.png') });
    await late.context().close();

    const asGuest = new TestClient(meeting.url, conf);
    await asGuest.hello({ name: 'Mallory' });
    await asGuest.next('welcome');
    expect(await asGuest.request({ type: 'slides.ticket' })).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy lets only presenters present slides' });
    const deckId = (await gus.getByTestId('slides-view').getAttribute('data-deck'))!;
    expect(await asGuest.request({ type: 'slides.page', deckId, page: 3 })).toMatchObject({ type: 'error', code: 'policy' });
    asGuest.close();
    expect(await shownPage(gus)).toBe(2);
  });

  it.skipIf(!SOFFICE)('a .pptx is converted by LibreOffice on the server and shown to the viewer', async () => {
    const pptx = await makePptx(['Converted slide one', 'Converted slide two']);
    const t0 = Date.now();
    await alice.getByTestId('slides-upload-input').setInputFiles({ name: 'Roadmap.pptx', mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', buffer: pptx });
    await poll(async () => (await gus.getByTestId('slides-page-label').textContent()) === 'Page 1 of 2' && (await text(gus))?.includes('Converted slide one'), 180_000).toBe(true);
    console.log(`pptx uploaded, converted and shown to the viewer in ${Date.now() - t0} ms`);
    expect(await darkPixels(gus)).toBeGreaterThan(300);
    await alice.getByTestId('slides-next').click();
    await poll(() => text(gus)).toContain('Converted slide two');
    await gus.screenshot({ path: path.join(SHOTS, 'viewer-pptx-1280x720.png') });
    expect(meeting.pageErrors).toEqual([]);
  });
});
