/** One real server, its data directory and one Chromium: the set-up the meeting browser tests share. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { startServer, type BatonServer, type StartOptions } from '../../packages/server/dist/index.js';
import { CHROMIUM, CHROMIUM_ARGS, WEB_DIST, buildWeb } from './browser.js';

export interface BrowserMeetingOptions {
  /** Prefix of the temporary directory, e.g. `baton-chat-e2e-`. */
  tmpPrefix: string;
  /** Server options beyond port 0, the data directory and the built web client (logLevel is 'silent' unless said). */
  server?: Partial<StartOptions>;
  /** Every page's default timeout for its waits. */
  timeout?: number;
  /** Every page's timeout for navigations (default: `timeout`); a loaded machine's first load of the bundle can take a while. */
  navigationTimeout?: number;
  /** More options for every page's browser context (locale, acceptDownloads). */
  context?: BrowserContextOptions;
  /** Called with each page opened, after the page-error listener (e.g. to listen for CSP reports). */
  onPage?: (page: Page, pageErrors: string[]) => void;
}

export class BrowserMeeting {
  /** Removed on close; the server's data lives in `data/` below it, a test may put its own files here. */
  readonly dir: string;
  readonly dataDir: string;
  /** Every uncaught error of every page opened: a test ends by expecting it empty. */
  readonly pageErrors: string[] = [];
  srv!: BatonServer;
  browser!: Browser;

  private constructor(private readonly opts: BrowserMeetingOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), opts.tmpPrefix));
    this.dataDir = path.join(this.dir, 'data');
  }

  /** Builds the web client, starts the server and Chromium. */
  static async start(opts: BrowserMeetingOptions): Promise<BrowserMeeting> {
    buildWeb();
    const m = new BrowserMeeting(opts);
    try {
      await m.startServer();
      m.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  get url(): string {
    return this.srv.url;
  }

  /** A page in a fresh browser context, signed in with `cookie` (null: not signed in). */
  async open(cookie: string | null, viewport = { width: 1280, height: 720 }): Promise<Page> {
    const ctx = await this.browser.newContext({ viewport, ...this.opts.context });
    if (cookie) await ctx.addCookies([{ name: 'baton_session', value: cookie.split('=')[1]!, url: this.url }]);
    ctx.setDefaultTimeout(this.opts.timeout ?? 30_000);
    if (this.opts.navigationTimeout) ctx.setDefaultNavigationTimeout(this.opts.navigationTimeout);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
    this.opts.onPage?.(page, this.pageErrors);
    return page;
  }

  /**
   * Pages for `cookies` opened at once (null: a guest), then each goes to meeting `conf` in turn and
   * the guests, in order, join under `guestNames`.
   */
  async join<T extends (string | null)[]>(conf: string, cookies: [...T], guestNames: string[] = []): Promise<{ [K in keyof T]: Page }> {
    const pages = await Promise.all(cookies.map((c) => this.open(c)));
    for (const p of pages) await p.goto(`${this.url}/m/${conf}`);
    const guests = pages.filter((_, i) => cookies[i] === null);
    for (const [i, name] of guestNames.entries()) await this.guestJoins(guests[i]!, name);
    return pages as { [K in keyof T]: Page };
  }

  /** A guest's page, at the meeting's door, gives its name and joins. */
  async guestJoins(page: Page, name: string): Promise<void> {
    await page.getByTestId('guest-name').fill(name);
    await page.getByTestId('guest-join').click();
  }

  /** The server stops and starts again on the same data (at a new port). */
  async restart(): Promise<void> {
    await this.srv.close();
    await this.startServer();
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await this.srv?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    this.srv = await startServer({ port: 0, dataDir: this.dataDir, webDir: WEB_DIST, logLevel: 'silent', ...this.opts.server });
  }
}
