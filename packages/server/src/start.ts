import path from 'node:path';
import { buildServer, type BatonServer } from './app.js';
import { DEFAULT_MAX_CONFERENCES_PER_USER, DEFAULT_WEB_DIR, type ServerConfig } from './config.js';
import { RECONNECT_GRACE_MS } from '@baton/protocol';

export interface StartOptions extends Partial<ServerConfig> {
  dataDir: string;
}

/** Start a server with defaults suited to embedding and tests (loopback, free port, quiet log). */
export async function startServer(opts: StartOptions): Promise<BatonServer> {
  const config: ServerConfig = {
    host: '127.0.0.1',
    port: 0,
    storeUrl: `sqlite:${path.join(opts.dataDir, 'baton.sqlite')}`,
    publicUrl: null,
    webDir: DEFAULT_WEB_DIR,
    signup: true,
    secureCookies: false,
    trustProxy: false,
    logLevel: 'warn',
    reconnectGraceMs: RECONNECT_GRACE_MS,
    turn: null,
    stunUrls: [],
    maxConferencesPerUser: DEFAULT_MAX_CONFERENCES_PER_USER,
    ...opts,
  };
  const server = await buildServer(config);
  await server.listen();
  return server;
}
