/** The outbox against a real in-process SMTP server: a refused mail is retried, and the log holds no credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MailOutbox } from './MailOutbox.js';
import { openStore } from '../store/index.js';

describe('MailOutbox', () => {
  let server: SMTPServer;
  let port = 0;
  let refuse = 1;
  const delivered: string[] = [];
  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, cb) => cb(null, { user: auth.username }),
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          if (refuse-- > 0) {
            const err = Object.assign(new Error('try again later'), { responseCode: 451 });
            return cb(err);
          }
          delivered.push(...session.envelope.rcptTo.map((r) => r.address));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('retries a refused mail, then delivers it; the log names the SMTP reply, never the password', async () => {
    const lines: string[] = [];
    const log = { warn: (o: unknown, m?: string) => lines.push(JSON.stringify([o, m])), error: (o: unknown, m?: string) => lines.push(JSON.stringify([o, m])) };
    const outbox = new MailOutbox({ smtpUrl: `smtp://baton:s3cretpw@127.0.0.1:${port}`, from: 'Baton <baton@example.test>', log, retryBaseMs: 20 });
    const sent = new Promise<void>((resolve) => outbox.on('sent', () => resolve()));
    outbox.enqueue({ to: 'bob@example.test', subject: 'Invitation', text: 'hello' });
    await sent;
    await outbox.idle();
    expect(delivered).toEqual(['bob@example.test']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('451');
    expect(lines.join('\n')).not.toContain('s3cretpw');
    outbox.close();
    outbox.close();
  });

  it('in a cluster (one store, two servers) a mail is sent by the one holding it; a stopped one releases it to the other', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-outbox-'));
    const store = await openStore(`sqlite:${path.join(dir, 'baton.sqlite')}`);
    await store.migrate();
    try {
      delivered.length = 0;
      refuse = 0;
      // A's SMTP is unreachable (a port nothing listens on); B's works.
      const down = new MailOutbox({ smtpUrl: 'smtp://127.0.0.1:9', from: 'Baton <baton@example.test>', store, retryBaseMs: 2000, sweepMs: 50 });
      const up = new MailOutbox({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Baton <baton@example.test>', store, sweepMs: 50 });
      await down.start();
      await up.start();
      await down.enqueue({ to: 'carol@example.test', subject: 'Invitation', text: 'hello' });
      // A holds it (its first attempt fails and it waits 2 s): B must not take it meanwhile.
      await expect.poll(async () => (await store.listQueuedMail(10))[0]?.attempts, { timeout: 10_000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(delivered).toEqual([]);
      await down.close(); // released: B takes it up, after A's pause for the retry
      const sent = new Promise<void>((resolve) => up.on('sent', () => resolve()));
      await sent;
      await expect.poll(async () => (await store.listQueuedMail(10)).length, { timeout: 10_000 }).toBe(0);
      expect(delivered).toEqual(['carol@example.test']);
      await up.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
