#!/usr/bin/env node
/** `baton-server`: runs Baton with the configuration from flags and environment variables. */
import { CONFIG_HELP, loadConfig } from './config.js';
import { buildServer } from './app.js';

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
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: closing conferences and stopping\n`);
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`baton-server: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
