/**
 * Cluster mode: an upload (file or slide deck) whose ticket another node issued, so whose meeting is
 * homed there, is streamed on to that node as it arrives and its answer streamed back; the client
 * cannot tell which node it reached. The bytes are never held here.
 */
import http from 'node:http';
import https from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface UploadRelayOptions {
  /** The node that issued this ticket when it is another one (ClusterNode.nodeOfTicket). */
  nodeOfTicket(ticket: string): Promise<{ url: string } | null> | { url: string } | null;
}

const PASSED = ['content-type', 'content-length', 'user-agent', 'x-request-id'];

export class UploadRelay {
  readonly #opts: UploadRelayOptions;

  constructor(opts: UploadRelayOptions) {
    this.#opts = opts;
  }

  /** Relays the request when `ticket` belongs to another node; false when it is this node's to answer. */
  async relay(ticket: string, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const node = await this.#opts.nodeOfTicket(ticket);
    if (!node) return false;
    const target = new URL(req.url, node.url);
    const headers: Record<string, string> = {};
    for (const h of PASSED) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const out = (target.protocol === 'https:' ? https : http).request(target, { method: req.method, headers }, resolve);
      out.once('error', reject);
      req.raw.once('error', (err) => out.destroy(err));
      req.raw.pipe(out);
    });
    reply.code(upstream.statusCode ?? 502);
    for (const h of ['content-type', 'content-length', 'connection']) {
      const v = upstream.headers[h];
      if (typeof v === 'string') reply.header(h, v);
    }
    await reply.send(upstream);
    return true;
  }
}
