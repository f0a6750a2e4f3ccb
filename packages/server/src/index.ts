export { buildServer, type BatonServer } from './app.js';
export { loadConfig, type ServerConfig } from './config.js';
export { startServer, type StartOptions } from './start.js';
export { openStore } from './store/index.js';
export type { Store } from './store/Store.js';
