/**
 * Slides over real HTTP and WebSockets (issue 14 item 3): a slides ticket, a PDF upload that everyone
 * hears of, its PDF served back with a sandboxing CSP, page turns to everyone, the present policy
 * (a guest is refused), bad input refused with clear errors (not a PDF, a zip bomb, a wrong type, a
 * page out of range, a files ticket used for slides), a late joiner's welcome, and a restart.
 */
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessageOf } from '@baton/protocol';
import { TestClient, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';
import { makePdf } from './slideFiles.js';

describe('slides in a meeting', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  let conf: string;
  let org: TestClient;
  let guest: TestClient;
  let deckId = '';

  beforeAll(async () => {
    h = await ServerHarness.start(['alice'], { maxFileBytes: 2_000_000 });
    alice = h.cookies.alice;
    conf = await createConference(h.url, alice, { guests: 'allow' });
    ({ c: org } = await h.join(conf, alice));
    ({ c: guest } = await h.join(conf, undefined, 'Gus'));
  });
  afterAll(async () => {
    org?.close();
    guest?.close();
    await h?.dispose();
  });

  const ticket = async (c: TestClient, type = 'slides.ticket') => {
    const ack = await c.request({ type });
    if (ack.type !== 'ack' || !ack.ticket) throw new Error(`no ticket: ${JSON.stringify(ack)}`);
    return ack.ticket;
  };
  const upload = (t: string, name: string, body: Uint8Array | string) =>
    fetch(`${h.url}/api/slides?ticket=${encodeURIComponent(t)}&name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });

  it('the organizer uploads a PDF: everyone is shown page 1 of it; its PDF is served back as is', async () => {
    const pdf = await makePdf(['Alpha page', 'Beta page', 'Gamma page']);
    const res = await upload(await ticket(org), 'Quarterly <b>review.pdf', pdf);
    expect(res.status).toBe(201);
    const deck = (await res.json()) as { id: string; name: string; pages: number; converted: boolean };
    deckId = deck.id;
    expect(deck).toMatchObject({ name: 'Quarterly _b_review.pdf', pages: 3, converted: false });
    deckId = deck.id;
    const upd = (await guest.next('slides.updated', (m) => m.slides.current?.deckId === deckId)) as ServerMessageOf<'slides.updated'>;
    expect(upd.slides.current).toEqual({ deckId, page: 1 });
    expect(upd.slides.decks[0]).toMatchObject({ id: deckId, pages: 3, by: { name: 'Alice', user: 'alice' } });
    // A deck just uploaded turns everyone's stage to the slides.
    await guest.next('stage.updated', (m) => m.stage.view === 'slides');
    const got = await fetch(`${h.url}/api/slides/${deckId}/deck.pdf`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
    expect((await fetch(`${h.url}/api/slides/nope/deck.pdf`)).status).toBe(404);
  });

  it('page turns reach everyone; a page out of range or an unknown deck is refused', async () => {
    expect(await org.request({ type: 'slides.page', deckId, page: 3 })).toMatchObject({ type: 'ack' });
    await guest.next('slides.updated', (m) => m.slides.current?.page === 3);
    expect(await org.request({ type: 'slides.page', deckId, page: 4 })).toMatchObject({ type: 'error', code: 'bad_request', message: 'the deck has pages 1 to 3' });
    expect(await org.request({ type: 'slides.page', deckId: 'nope', page: 1 })).toMatchObject({ type: 'error', code: 'not_found' });
    expect(await org.request({ type: 'slides.page', deckId, page: 0 })).toMatchObject({ type: 'error', code: 'bad_request' });
  });

  it('a guest may not present slides under the default policy (presenters): no ticket, no page turn', async () => {
    expect(await guest.request({ type: 'slides.ticket' })).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy lets only presenters present slides' });
    expect(await guest.request({ type: 'slides.page', deckId, page: 1 })).toMatchObject({ type: 'error', code: 'policy' });
    expect(await guest.request({ type: 'slides.stop' })).toMatchObject({ type: 'error', code: 'policy' });
    // A files ticket (which a guest may get) does not upload slides, nor a slides ticket a file.
    const files = await ticket(guest, 'file.ticket');
    expect((await upload(files, 'x.pdf', await makePdf(['x']))).status).toBe(403);
    const slides = await ticket(org);
    const asFile = await fetch(`${h.url}/api/files?ticket=${slides}&name=x.txt`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
    expect(asFile.status).toBe(403);
  });

  it('bad input is refused with a clear error, and the meeting carries on', async () => {
    const bad = async (name: string, body: Uint8Array | string) => {
      const res = await upload(await ticket(org), name, body);
      return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
    };
    expect(await bad('fake.pdf', '<html><script>alert(1)</script></html>')).toEqual({ status: 400, message: 'this file is not a PDF (it does not start with %PDF-)' });
    expect(await bad('broken.pdf', '%PDF-1.7\ngarbage')).toMatchObject({ status: 400, message: expect.stringContaining('this PDF cannot be opened') });
    expect(await bad('bomb.pptx', zipSync({ 'ppt/slides/slide1.xml': new Uint8Array(60e6) }, { level: 9 }))).toMatchObject({ status: 400, message: expect.stringContaining('zip bomb') });
    expect(await bad('notes.txt', 'hello')).toEqual({ status: 400, message: 'slides must be a PDF, a PowerPoint (.pptx, .ppt) or an OpenDocument presentation (.odp)' });
    expect(await bad('big.pdf', new Uint8Array(3_000_000))).toMatchObject({ status: 413 });
    expect(await org.request({ type: 'slides.page', deckId, page: 2 })).toMatchObject({ type: 'ack' });
    await guest.next('slides.updated', (m) => m.slides.current?.page === 2);
  });

  it('a late joiner is welcomed with the deck and page; after a restart too; stop clears it', async () => {
    const late = new TestClient(h.url, conf);
    await late.hello({ name: 'Lena' });
    expect((await late.next('welcome')).slides?.current).toEqual({ deckId, page: 2 });
    late.close();

    org.close();
    guest.close();
    await h.restart();
    const { c, w: welcome } = await h.join(conf, alice);
    org = c;
    expect(welcome.slides).toMatchObject({ current: { deckId, page: 2 }, decks: [{ id: deckId, pages: 3 }] });
    expect((await fetch(`${h.url}/api/slides/${deckId}/deck.pdf`)).status).toBe(200);
    ({ c: guest } = await h.join(conf, undefined, 'Gus'));
    expect(await org.request({ type: 'slides.stop' })).toMatchObject({ type: 'ack' });
    expect(((await guest.next('slides.updated')) as ServerMessageOf<'slides.updated'>).slides.current).toBeNull();
  });
});
