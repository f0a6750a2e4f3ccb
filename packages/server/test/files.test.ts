/**
 * Files shared with a meeting, over real HTTP and WebSockets (issue 14 item 6): a ticket from the
 * conference socket, the upload, the chat message that carries it, the download's headers and
 * bytes, names made safe, the size limit (declared and streamed), single-use tickets, the policy,
 * deletion by its sharer or an organizer only, identical files kept once, and a restart.
 */
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@baton/protocol';
import { TestClient, api, createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('files shared with a meeting', () => {
  let h: ServerHarness<'alice'>;
  let alice: string;
  let conf: string;
  let org: TestClient;
  let guest: TestClient;
  const LIMIT = 200_000;

  beforeAll(async () => {
    h = await ServerHarness.start(['alice'], { maxFileBytes: LIMIT });
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

  const ticket = async (c: TestClient) => {
    const ack = await c.request({ type: 'file.ticket' });
    if (ack.type !== 'ack' || !ack.ticket) throw new Error(`no ticket: ${JSON.stringify(ack)}`);
    return ack.ticket;
  };
  const upload = (t: string, name: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/api/files?ticket=${encodeURIComponent(t)}&name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  const blobCount = () => {
    const dir = path.join(h.dataDir, 'files');
    return readdirSync(dir).filter((d) => d !== 'tmp').reduce((n, d) => n + readdirSync(path.join(dir, d)).length, 0);
  };
  const tmpLeft = () => (existsSync(path.join(h.dataDir, 'files', 'tmp')) ? readdirSync(path.join(h.dataDir, 'files', 'tmp')).length : 0);

  it('a guest shares a file: everyone gets a chat message with it; the download is an attachment with the same bytes', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const res = await upload(await ticket(guest), '../../etc/<b>report</b>\u202e.pdf', bytes);
    expect(res.status).toBe(201);
    const file = (await res.json()) as { id: string; name: string; size: number };
    expect(file).toMatchObject({ name: 'b_.pdf', size: 5000 });
    expect(file.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const msg = (await org.next('chat.message')) as Extract<ServerMessage, { type: 'chat.message' }>;
    expect(msg.message).toMatchObject({ senderName: 'Gus', text: 'b_.pdf', file: { id: file.id, name: 'b_.pdf', size: 5000 } });

    const dl = await fetch(`${h.url}/api/files/${file.id}/${encodeURIComponent(file.name)}`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    expect(dl.headers.get('content-disposition')).toBe('attachment; filename="b_.pdf"');
    expect(dl.headers.get('x-content-type-options')).toBe('nosniff');
    expect(dl.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(Buffer.from(await dl.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(`${h.url}/api/files/nope/x`)).status).toBe(404);
  });

  it('a ticket is good for one upload; none or a forged one is refused', async () => {
    const t = await ticket(org);
    expect((await upload(t, 'a.txt', 'one')).status).toBe(201);
    await org.next('chat.message');
    const again = await upload(t, 'b.txt', 'two');
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('unknown, used or expired');
    expect((await upload('forged', 'c.txt', 'three')).status).toBe(403);
    expect((await fetch(`${h.url}/api/files`, { method: 'POST', body: 'x', headers: { 'content-type': 'application/octet-stream' } })).status).toBe(403);
  });

  it('refuses a file over the limit, declared or streamed, and keeps nothing of it', async () => {
    const before = blobCount();
    const declared = await upload(await ticket(org), 'big.bin', Buffer.alloc(LIMIT + 1));
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { message: string } }).error.message).toBe('the file is larger than 200 kB');
    // Without a Content-Length the server counts as it writes, and stops at the limit.
    const chunks = Readable.from((function* () {
      for (let i = 0; i < 40; i++) yield Buffer.alloc(10_000, i);
    })());
    const streamed = await upload(await ticket(org), 'big.bin', Readable.toWeb(chunks) as unknown as ReadableStream);
    expect(streamed.status).toBe(413);
    expect(blobCount()).toBe(before);
    expect(tmpLeft()).toBe(0);
  });

  it('the same bytes shared twice are kept once; a file goes only by its sharer or an organizer', async () => {
    const before = blobCount();
    const body = 'the same content';
    const a = (await (await upload(await ticket(guest), 'one.txt', body)).json()) as { id: string };
    const b = (await (await upload(await ticket(org), 'two.txt', body)).json()) as { id: string };
    expect(blobCount()).toBe(before + 1);

    const refused = await guest.request({ type: 'file.delete', fileId: b.id });
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await guest.request({ type: 'file.delete', fileId: a.id })).toMatchObject({ type: 'ack' });
    await org.next('file.deleted', (m) => m.fileId === a.id);
    expect((await fetch(`${h.url}/api/files/${a.id}/one.txt`)).status).toBe(410);
    expect(blobCount()).toBe(before + 1); // still used by two.txt
    expect(await org.request({ type: 'file.delete', fileId: b.id })).toMatchObject({ type: 'ack' }); // an organizer removes anyone's
    expect(blobCount()).toBe(before);
    expect(await org.request({ type: 'file.delete', fileId: b.id })).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('the policy decides who shares files', async () => {
    expect((await api(h.url, 'PATCH', `/api/conferences/${conf}`, { policy: { files: 'presenters' } }, alice)).status).toBe(200);
    await guest.next('conference.updated', (m) => m.conference.policy.files === 'presenters');
    expect(await guest.request({ type: 'file.ticket' })).toMatchObject({ type: 'error', code: 'policy', message: 'the meeting policy lets only presenters and organizers share files' });
    await ticket(org);
    expect((await api(h.url, 'PATCH', `/api/conferences/${conf}`, { policy: { files: 'off' } }, alice)).status).toBe(200);
    await org.next('conference.updated', (m) => m.conference.policy.files === 'off');
    expect(await org.request({ type: 'file.ticket' })).toMatchObject({ type: 'error', code: 'policy', message: 'sharing files is turned off in this meeting' });
    expect((await api(h.url, 'PATCH', `/api/conferences/${conf}`, { policy: { files: 'anyone' } }, alice)).status).toBe(200);
  });

  it('after a restart the chat still carries the files, removed ones marked', async () => {
    org.close();
    guest.close();
    await h.restart();
    const { c, w: welcome } = await h.join(conf, alice);
    org = c;
    const files = welcome.chat.filter((m) => m.file).map((m) => [m.file!.name, m.file!.deleted ?? false]);
    expect(files).toEqual([
      ['b_.pdf', false],
      ['a.txt', false],
      ['one.txt', true],
      ['two.txt', true],
    ]);
    ({ c: guest } = await h.join(conf, undefined, 'Gus'));
  });
});
