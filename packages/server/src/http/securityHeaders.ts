/**
 * Security headers on every response, through @fastify/helmet. The web client is a Vite build: one
 * module script and one stylesheet from /assets, two module workers (sharing) from /assets, a data:
 * favicon, images decoded from Blobs, and fetch/WebSocket to this same origin; nothing inline. So
 * the CSP allows only 'self' (plus data:/blob: images) and forbids framing: the meeting page carries
 * remote control, and must never be clickjacked inside another site.
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { ServerConfig } from '../config.js';

/** Screen capture, microphone, camera, fullscreen and the clipboard: this origin only; a few others off. */
export const PERMISSIONS_POLICY = [
  'display-capture=(self)',
  'microphone=(self)',
  'camera=(self)',
  'fullscreen=(self)',
  'clipboard-read=(self)',
  'clipboard-write=(self)',
  'geolocation=()',
  'payment=()',
  'usb=()',
].join(', ');

const HSTS_MAX_AGE = 180 * 24 * 3600;

export function securityHeaders(config: Pick<ServerConfig, 'publicUrl'>): FastifyHelmetOptions {
  const https = config.publicUrl?.startsWith('https:') ?? false;
  // 'self' covers same-origin ws:/wss: in CSP3 browsers; the public URL's socket origin is named
  // too, for browsers that predate that rule.
  const sockets = config.publicUrl ? [config.publicUrl.replace(/^http/, 'ws').replace(/^(wss?:\/\/[^/]+).*$/, '$1')] : [];
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'", ...sockets],
        'worker-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        // Only behind https: on plain http it would send the browser to an https port nobody serves.
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // The legacy spelling of frame-ancestors, for old browsers.
    xFrameOptions: { action: 'deny' },
    // Meeting URLs are capabilities (anyone holding one may knock): never leak them to other sites
    // in Referer. Not no-referrer: with it some browsers (Firefox) send `Origin: null` on our own
    // POSTs, which the Origin check would have to take on trust.
    referrerPolicy: { policy: 'same-origin' },
    xContentTypeOptions: true,
    // HSTS only when the server is known to be reached over https; over http it would be ignored at
    // best, and pin a wrong expectation at worst.
    strictTransportSecurity: https ? { maxAge: HSTS_MAX_AGE, includeSubDomains: false } : false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  };
}
