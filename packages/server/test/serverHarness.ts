/**
 * One test server with its signed-up users, whose meetings the test joins over the conference
 * socket; it can restart on the same data. The set-up the Focus feature tests share.
 */
import { rmSync } from 'node:fs';
import type { StartOptions } from '../src/start.js';
import { TestClient, api, signUp, testServer } from './support.js';

type TestServer = Awaited<ReturnType<typeof testServer>>;

export class ServerHarness<U extends string = string> {
  /** Each user's session cookie, by username. */
  readonly cookies = {} as Record<U, string>;
  #srv!: TestServer;
  #dataDir = '';

  private constructor(private readonly opts: Partial<StartOptions>) {}

  /** A test server (with `opts`) and `users` signed up on it, in order. */
  static async start<U extends string>(users: U[], opts: Partial<StartOptions> = {}): Promise<ServerHarness<U>> {
    const h = new ServerHarness<U>(opts);
    h.#srv = await testServer(opts);
    h.#dataDir = h.#srv.dataDir;
    for (const u of users) h.cookies[u] = await signUp(h.url, u);
    return h;
  }

  /** The server itself (its registry, its conferencing), the current one after a restart. */
  get server(): TestServer {
    return this.#srv;
  }

  get url(): string {
    return this.#srv.url;
  }

  get dataDir(): string {
    return this.#dataDir;
  }

  /** Joins meeting `conf` as the user of `cookie`, or as a guest (named `name`): the client and its welcome. */
  async join(conf: string, cookie?: string, name?: string) {
    const c = new TestClient(this.url, conf, cookie ? { cookie } : {});
    await c.hello(name ? { name } : {});
    return { c, w: await c.next('welcome') };
  }

  /** An agent of `cookie`'s user joins meeting `conf` with a fresh one-time agent token: the client and its welcome. */
  async joinAgent(conf: string, cookie: string, hello: Parameters<TestClient['hello']>[0] = {}) {
    const tok = await api(this.url, 'POST', `/api/conferences/${conf}/agent-tokens`, {}, cookie);
    const c = new TestClient(this.url, conf);
    await c.hello({ client: 'agent', agentToken: tok.body.token, ...hello });
    return { c, w: await c.next('welcome') };
  }

  /** The server stops and a new one starts on the same data. */
  async restart(): Promise<void> {
    await this.#srv.close();
    this.#srv = await testServer({ ...this.opts, dataDir: this.#dataDir });
  }

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.#srv?.dispose();
    if (this.#dataDir) rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
