/**
 * This node's lease: a key in a JetStream KV bucket whose entries expire after the TTL, renewed by a
 * heartbeat with a compare-and-set on the last revision. When the renewal finds the key gone or
 * rewritten (the node was paused or cut off past the TTL), the lease is lost: other nodes may have
 * taken its conferences, so the node must stop acting for them (`lost`) before it takes a new lease.
 *
 * `valid()` answers from the local monotonic clock, counted from when the last successful renewal was
 * *sent*, so it turns false no later than the key can expire on the server: a process resumed after
 * SIGSTOP sees it false before any of its timers or sockets are served.
 */
import type { KV } from '@nats-io/kv';
import { performance } from 'node:perf_hooks';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { NodeInfo } from './types.js';

export interface NodeLeaseOptions {
  kv: KV;
  nodeId: string;
  ttlMs: number;
  /** The value written with each heartbeat. */
  info: () => NodeInfo;
  log?: { info?(o: unknown, m?: string): void; warn(o: unknown, m?: string): void };
}

export type NodeLeaseEvents = {
  /** The lease expired or was taken while we held it: stop acting for every conference now. */
  lost: [reason: string];
  /** A (new) lease is held. */
  acquired: [revision: number];
};

/** Heartbeats per TTL: a node survives a couple of lost or slow ones. */
const BEATS_PER_TTL = 4;
/** Margin kept from the TTL in `valid()`, for the server's expiry timer and clock rates. */
const SAFETY_MS = 300;

export class NodeLease extends TypedEmitter<NodeLeaseEvents> {
  readonly #o: NodeLeaseOptions;
  readonly #key: string;
  #revision = 0;
  #validUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  #beating = false;
  #closed = false;

  constructor(opts: NodeLeaseOptions) {
    super();
    this.#o = opts;
    this.#key = `node.${opts.nodeId}`;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Takes the lease; waits (up to two TTLs) while a previous process with our id still holds it. */
  async start(): Promise<void> {
    const deadline = performance.now() + 2 * this.#o.ttlMs + 1000;
    for (;;) {
      if (await this.#create()) break;
      if (performance.now() > deadline) throw new Error(`node id ${this.#o.nodeId} is held by another running node`);
      await new Promise((r) => setTimeout(r, this.#interval));
    }
    this.#timer = setInterval(() => void this.#beat(), this.#interval);
  }

  get #interval(): number {
    return Math.max(100, Math.floor(this.#o.ttlMs / BEATS_PER_TTL));
  }

  /** Is the lease certainly still ours (by the local clock)? */
  valid(): boolean {
    return !this.#closed && this.#revision > 0 && performance.now() < this.#validUntil;
  }

  async #create(): Promise<boolean> {
    const sent = performance.now();
    try {
      this.#revision = await this.#o.kv.create(this.#key, JSON.stringify(this.#o.info()));
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
      throw err;
    }
    this.#validUntil = sent + this.#o.ttlMs - SAFETY_MS;
    this.#o.log?.info?.({ node: this.#o.nodeId, revision: this.#revision }, 'cluster lease acquired');
    this.emit('acquired', this.#revision);
    return true;
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#closed) return;
    this.#beating = true;
    try {
      if (this.#revision === 0) {
        await this.#create();
        return;
      }
      const sent = performance.now();
      try {
        this.#revision = await this.#o.kv.update(this.#key, JSON.stringify(this.#o.info()), this.#revision);
        this.#validUntil = sent + this.#o.ttlMs - SAFETY_MS;
      } catch (err) {
        if (this.#closed) return;
        if (/wrong last sequence/i.test((err as Error).message)) {
          this.#revision = 0;
          this.#validUntil = 0;
          this.#o.log?.warn({ node: this.#o.nodeId }, 'cluster lease lost (expired while this node was silent); leaving its conferences');
          this.emit('lost', 'this node lost its cluster lease');
          await this.#create();
        } else {
          // NATS unreachable or slow: valid() runs out on its own, and the watchdog fences.
          this.#o.log?.warn({ err: (err as Error).message }, 'cluster lease renewal failed');
        }
      }
    } catch (err) {
      this.#o.log?.warn({ err: (err as Error).message }, 'cluster lease renewal failed');
    } finally {
      this.#beating = false;
    }
  }

  /** Gives the lease back at once (a clean stop), so its conferences move without waiting for the TTL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#revision > 0) await this.#o.kv.delete(this.#key, { previousSeq: this.#revision }).catch(() => {});
  }
}
