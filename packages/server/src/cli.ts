#!/usr/bin/env node
/** `baton-server`: runs Baton with the configuration from flags and environment variables. */
import { CONFIG_HELP, loadConfig } from './config.js';
import { buildServer } from './app.js';

/** Below systemd's default TimeoutStopSec (90 s) and the unit's 30 s (docs/deploy.md). */
const SHUTDOWN_TIMEOUT_MS = 20_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`baton-server: ${(err as Error).message}\n\n${CONFIG_HELP}`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(CONFIG_HELP);
    return;
  }
  const server = await buildServer(config);
  const url = await server.listen();
  const store = config.storeUrl.startsWith('sqlite:') ? config.storeUrl : config.storeUrl.replace(/\/\/[^@/]*@/, '//***@');
  process.stdout.write(`Baton is running at ${config.publicUrl ?? url} (store: ${store})\n`);
  let stopping = false;
  // Graceful: refuse new connections, keep every seat in the store, tell each client and agent to
  // reconnect (server.shutdown), close the sockets and the store; exit 0. A second signal, or a
  // shutdown stuck past the limit, exits at once with 1.
  const stop = (signal: string) => {
    if (stopping) {
      process.stdout.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: telling clients to reconnect, closing conferences and stopping\n`);
    setTimeout(() => {
      process.stderr.write(`baton-server: not stopped within ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting anyway\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    server.close().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`baton-server: shutdown failed: ${(err as Error)?.message ?? err}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`baton-server: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
