/** The outbox against a real in-process SMTP server: a refused mail is retried, and the log holds no credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { MailOutbox } from './MailOutbox.js';

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
});
