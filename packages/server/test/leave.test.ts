/**
 * `leave`: a page that is going away (pagehide) says so, and its seat goes within the short leave
 * grace once the socket closes, as `left`, instead of showing "reconnecting" for the full grace; a
 * reload, which says the same, resumes the seat with its token within that grace and nobody sees a
 * leave or a flap. Real sockets; the full grace is a minute here, so only the leave path can be quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, createConference, signUp, testServer } from './support.js';

type Server = Awaited<ReturnType<typeof testServer>>;
const LEAVE_GRACE = 1500;

describe('leave: a closed page goes at once, a reload keeps its seat', () => {
  let srv: Server;
  let alice: string;
  beforeAll(async () => {
    srv = await testServer({ reconnectGraceMs: 60_000, leaveGraceMs: LEAVE_GRACE });
    alice = await signUp(srv.url, 'alice');
  });
  afterAll(async () => srv.dispose());

  async function join(conf: string, opts: { cookie?: string; name?: string; resume?: string } = {}) {
    const c = new TestClient(srv.url, conf, { cookie: opts.cookie });
    await c.hello({ ...(opts.name ? { name: opts.name } : {}), ...(opts.resume ? { resume: opts.resume } : {}) });
    return c;
  }
  /** A round trip: whatever the server sent this client before the pong has been read. */
  let pings = 0;
  const roster = async (c: TestClient) => {
    const rid = `p${++pings}`;
    await c.send({ type: 'ping', rid });
    await c.next('pong', (m) => m.rid === rid);
  };

  it('leave, then the socket closes: the others see the seat leave as "left", never "reconnecting"', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const guest = await join(conf, { name: 'Gwen' });
    const wg = await guest.next('welcome');
    await org.next('participant.joined');
    await guest.send({ type: 'leave', rid: 'x1' });
    guest.ws.close(1001, 'going away'); // what a browser sends when a tab closes
    // Well inside the minute of the full grace: only the leave path removes it this soon.
    expect(await org.next('participant.left', () => true, 15_000)).toMatchObject({ participantId: wg.self, reason: 'left' });
    expect(org.received.filter((m) => m.type === 'participant.updated')).toEqual([]);
    org.close();
  });

  it('a reload says leave too, and resumes the same seat within the leave grace: no leave, no flap', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const guest = await join(conf, { name: 'Gwen' });
    const wg = await guest.next('welcome');
    await org.next('participant.joined');
    await guest.send({ type: 'leave', rid: 'x1' });
    guest.ws.close(1001, 'going away');
    await guest.closed;
    const again = await join(conf, { name: 'Gwen', resume: wg.resumeToken });
    expect((await again.next('welcome')).self).toBe(wg.self);
    // Past the leave grace (with room), the seat is still there and nothing was announced but "online".
    await new Promise((r) => setTimeout(r, LEAVE_GRACE * 2));
    await roster(org);
    expect(org.received.filter((m) => m.type === 'participant.left' || m.type === 'participant.joined')).toEqual([]);
    expect(org.received.filter((m) => m.type === 'participant.updated').map((m) => m.type === 'participant.updated' && m.participant.connection)).toEqual(['online']);

    // The resumed seat forgot the leave: a plain drop now gets the full grace ("reconnecting").
    again.ws.terminate();
    expect((await org.next('participant.updated', (m) => m.participant.connection === 'reconnecting')).participant.id).toBe(wg.self);
    org.close();
  });

  it('a guest waiting in the lobby who closes the page leaves the organizer\'s lobby list at once', async () => {
    const conf = await createConference(srv.url, alice, { guests: 'lobby' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const guest = await join(conf, { name: 'Lou' });
    const wait = await guest.next('lobby.wait');
    await org.next('participant.joined', (m) => m.participant.status === 'lobby');
    await guest.send({ type: 'leave', rid: 'x1' });
    guest.ws.close(1001, 'going away');
    expect(await org.next('participant.left', () => true, 15_000)).toMatchObject({ participantId: wait.self, reason: 'left' });
    org.close();
  });

  it("a leave names no one: it only ever applies to the sender's own seat", async () => {
    const conf = await createConference(srv.url, alice, { guests: 'allow' });
    const org = await join(conf, { cookie: alice });
    await org.next('welcome');
    const guest = await join(conf, { name: 'Gwen' });
    const wg = await guest.next('welcome');
    await org.next('participant.joined');
    // Extra fields (someone else's id) are refused by the schema, and nobody leaves.
    expect(await guest.request({ type: 'leave', participantId: wg.self })).toMatchObject({ type: 'error', code: 'bad_request' });
    const stranger = await join(conf, { name: 'Sam' });
    await stranger.next('welcome');
    await stranger.send({ type: 'leave', rid: 'x2' });
    stranger.ws.close(1001, 'going away');
    const left = await org.next('participant.left', () => true, 15_000);
    expect(left.participantId).not.toBe(wg.self);
    await roster(guest);
    expect(guest.received.some((m) => m.type === 'participant.left' && m.participantId === wg.self)).toBe(false);
    guest.close();
    org.close();
  });
});
