/**
 * End to end: the host agent's network drops for a moment (a TCP proxy between the agent and the server
 * cuts both of its sockets). The agent resumes its seat in the meeting with its resume token (its one-time
 * token is spent), reopens the sharing socket with a fresh ticket, and the viewer keeps watching: the
 * same participant, the same share, and a change made after the drop on the viewer's canvas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BatonServer } from '../../packages/server/dist/index.js';
import { XDesktop } from '../../packages/agent/test/helpers/xDesktop.js';
import { createConference, signUp } from '../../packages/server/test/support.js';
import { startAgentShare, type AgentRun } from '../support/agent.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { BrowserMeeting } from '../support/meeting.js';
import { canvasPixel, closeTo } from '../support/hostDesktop.js';
import { haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/agent-resume.e2e.test.ts');

describe.skipIf(!OK)('the host agent survives a network drop', () => {
  let desktop: XDesktop;
  let meeting: BrowserMeeting;
  let srv: BatonServer;
  let proxy: TcpProxy;
  let agent: AgentRun | undefined;
  let bob: Page;
  let conf = '';

  const pixel = (x: number, y: number) => canvasPixel(bob, x, y);

  beforeAll(async () => {
    desktop = await XDesktop.start(800, 600);
    await desktop.painter.window(0, 0, 800, 600, [40, 90, 160]);
    meeting = await BrowserMeeting.start({ tmpPrefix: 'baton-resume-e2e-', timeout: 15_000 });
    srv = meeting.srv;
    proxy = await startTcpProxy(Number(new URL(srv.url).port));
    const alice = await signUp(srv.url, 'alice');
    const bobCookie = await signUp(srv.url, 'bob');
    conf = await createConference(srv.url, alice, { guests: 'allow', control: 'signed-in' }, 'Resume demo');
    // Through the server (no p2p), so the picture itself has to come back through the proxy.
    agent = await startAgentShare(srv, conf, alice, desktop.display, 'never', `http://127.0.0.1:${proxy.port}`, ['--no-p2p']);
    bob = await meeting.open(bobCookie);
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await proxy?.close();
    await meeting?.close();
    await desktop?.stop();
  });

  it('resumes its seat and share after its sockets are cut, and the viewer sees changes made after', async () => {
    await bob.goto(`${srv.url}/m/${conf}`);
    await expect.poll(() => pixel(400, 300).then((p) => closeTo(p, [40, 90, 160])), { timeout: 15_000 }).toBe(true);
    const focus = (await srv.registry.get(conf))!;
    const before = focus.snapshot();
    const hostId = before.share!.hostId;

    const connectionsBefore = proxy.connections();
    proxy.cut();
    await expect.poll(() => agent!.output().includes('Reconnected to the meeting'), { timeout: 15_000 }).toBe(true);
    // Both sockets came back through the proxy: the conference socket and a new sharing socket.
    await expect.poll(() => proxy.connections() - connectionsBefore, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);

    const after = (await srv.registry.get(conf))!.snapshot();
    expect(after.share?.hostId).toBe(hostId); // the same seat still shares: no leave, no new participant
    expect(after.share?.kind).toBe('agent');
    expect(after.roster.map((p) => p.id).sort()).toEqual(before.roster.map((p) => p.id).sort());
    expect(after.roster.find((p) => p.id === hostId)?.connection).toBe('online');

    // A change on the host after the drop reaches the viewer, whose view was never torn down.
    const patch = await desktop.painter.window(100, 100, 96, 96, [250, 250, 250]);
    await expect.poll(() => pixel(140, 140).then((p) => closeTo(p, [250, 250, 250])), { timeout: 15_000 }).toBe(true);
    await desktop.painter.destroy(patch);
    expect(agent!.output()).not.toContain('Sharing ended');
    console.log(`--- agent output ---\n${agent!.output()}`);
  });
});
