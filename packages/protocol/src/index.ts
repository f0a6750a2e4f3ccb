export * from './version.js';
export * from './roles.js';
export * from './policy.js';
export * from './errors.js';
export * from './conference.js';
export * from './api.js';
export * from './share.js';
export * from './chunks.js';
