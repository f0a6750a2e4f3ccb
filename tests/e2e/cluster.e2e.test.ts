/**
 * End to end, issue 16: one meeting across a cluster of three node processes (real NATS and
 * PostgreSQL), in Chromium. The organizer's page talks to node A, the guest's to node B, and the
 * meeting's home is node C (A and B carry other meetings, so C is the least loaded): chat and roster
 * go both ways through the relays. Then node C is killed with SIGKILL: both pages say they are
 * reconnecting, come back to the same seats on the new home (no second roster entry), the chat
 * from before is there, and the meeting goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createConference, signUp, TestClient } from '../../packages/server/test/support.js';
import { clusterView, freshCluster, until, untilAllSee, type TestCluster, type TestNode } from '../../packages/server/test/clusterSupport.js';
import { CHROMIUM, CHROMIUM_ARGS, buildWeb, haveBrowserAndX } from '../support/browser.js';

const OK = haveBrowserAndX('tests/e2e/cluster.e2e.test.ts');
const cluster = OK ? await freshCluster('the cluster e2e test') : null;

describe.skipIf(!cluster)('a meeting across three nodes, and its home node killed', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let A: TestNode, B: TestNode, C: TestNode;
  let browser: Browser;
  const ballast: TestClient[] = [];
  const pageErrors: string[] = [];

  const open = async (node: TestNode, cookie: string | null): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    if (cookie) await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: node.url }]);
    ctx.setDefaultTimeout(20_000);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const say = async (page: Page, text: string) => {
    await page.getByTestId('chat-input').fill(text);
    await page.getByTestId('chat-send').click();
  };
  const message = (page: Page, text: string) => page.getByTestId('chat-message').filter({ hasText: text });

  beforeAll(async () => {
    buildWeb();
    c = cluster!;
    [A, B, C] = await Promise.all([c.start('A'), c.start('B'), c.start('C')]);
    await untilAllSee([A, B, C]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    for (const b of ballast) b.close();
    await browser?.close();
    await c?.dispose();
  }, 60_000);

  it('chat and roster across nodes; after kill -9 of the home both pages are back in their seats with the chat', async () => {
    const alice = await signUp(A.url, 'alice');
    // Ballast: a meeting on A, then one on B (each placed on the least loaded node), so that ours goes to C.
    for (const expectHome of ['A', 'B']) {
      const other = await createConference(A.url, alice, { guests: 'allow' });
      const cl = new TestClient(A.url, other);
      await cl.hello({ name: `ballast ${expectHome}` });
      await cl.next('welcome', undefined, 15_000);
      ballast.push(cl);
      await until(async () => (await clusterView(A)).nodes.find((n) => n.id === expectHome && n.load > 0), `load on ${expectHome}`, 15_000);
    }
    const conf = await createConference(B.url, alice, { guests: 'allow' }, 'Across the cluster');
    const org = await open(A, alice);
    const gus = await open(B, null);
    await org.goto(`${A.url}/m/${conf}`);
    await org.getByTestId('roster-Alice').waitFor();
    const view = await clusterView(B);
    expect(view.nodes.find((n) => n.conferences.includes(conf))?.id, JSON.stringify(view)).toBe('C');
    await gus.goto(`${B.url}/m/${conf}`);
    await gus.getByTestId('guest-name').fill('Gus');
    await gus.getByTestId('guest-join').click();
    for (const p of [org, gus]) {
      await p.getByTestId('roster-Gus').waitFor();
      await p.getByTestId('roster-Alice').waitFor();
    }
    await say(org, 'hello from node A');
    await message(gus, 'hello from node A').waitFor();
    await say(gus, 'hello from node B, <b>not bold</b>');
    await message(org, 'hello from node B').waitFor();
    expect(await message(org, 'hello from node B').getByTestId('chat-text').textContent()).toBe('hello from node B, <b>not bold</b>');

    const t0 = Date.now();
    await C.kill();
    // Both pages notice, and come back by themselves to the conference's new home.
    await Promise.all([org, gus].map((p) => p.getByTestId('connection-banner').waitFor({ timeout: 15_000 })));
    await Promise.all([org, gus].map((p) => p.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 })));
    const back = Date.now() - t0;
    console.log(`[cluster e2e] both pages back ${back} ms after kill -9 of the home node`);
    const home = await until(async () => (await clusterView(A)).nodes.find((n) => n.conferences.includes(conf))?.id, 'a new home');
    expect(['A', 'B']).toContain(home);
    // Same seats: one entry each, the chat from before the kill still there.
    for (const p of [org, gus]) {
      await expect.poll(() => p.getByTestId('roster-Gus').count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => p.getByTestId('roster-Alice').count(), { timeout: 15_000 }).toBe(1);
      await message(p, 'hello from node A').waitFor();
      await message(p, 'hello from node B').waitFor();
    }
    await say(gus, 'still here after the takeover');
    await message(org, 'still here after the takeover').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
