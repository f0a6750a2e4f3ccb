// The bench's own little HTTP server: workload pages for the host, viewer pages for Baton.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css', '.map': 'application/json' };

/** Serve files from `roots` (tried in order) on 127.0.0.1. Returns { url, close() }. */
export async function startPageServer(roots) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    for (const root of roots) {
      try {
        const body = await readFile(join(root, path === '/' ? 'index.html' : path));
        res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(body);
        return;
      } catch {
        /* try the next root */
      }
    }
    res.writeHead(404).end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  let closed = false;
  return {
    url,
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
