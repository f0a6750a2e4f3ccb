/**
 * The live nodes, as their leases in the KV bucket say: scanned every heartbeat interval (NATS 2.9
 * sends no watch event when a key expires, so a watch alone would never see a node die).
 */
import type { KV } from '@nats-io/kv';
import { NodeInfo } from './types.js';

export interface NodeDirectoryOptions {
  kv: KV;
  intervalMs: number;
  log?: { warn(o: unknown, m?: string): void };
}

export class NodeDirectory {
  readonly #o: NodeDirectoryOptions;
  #nodes = new Map<string, NodeInfo>();
  #timer: NodeJS.Timeout | null = null;
  #scanning: Promise<void> | null = null;
  #closed = false;

  constructor(opts: NodeDirectoryOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#timer = setInterval(() => void this.refresh().catch((err) => this.#o.log?.warn({ err: (err as Error).message }, 'cluster scan failed')), this.#o.intervalMs);
  }

  /** Reads every lease now (a scan already running is shared). */
  refresh(): Promise<void> {
    // Bounded: a join waits on this, and a slow NATS must not hold it up for good.
    this.#scanning ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('scanning the node leases timed out')), Math.max(2000, 4 * this.#o.intervalMs));
      this.#scan().then(resolve, reject).finally(() => clearTimeout(timer));
    }).finally(() => (this.#scanning = null));
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const next = new Map<string, NodeInfo>();
    const keys: string[] = [];
    for await (const k of await this.#o.kv.keys('node.*')) keys.push(k);
    await Promise.all(
      keys.map(async (k) => {
        const e = await this.#o.kv.get(k);
        if (!e || e.operation !== 'PUT') return;
        const info = NodeInfo.safeParse(safeJson(e.string()));
        if (info.success) next.set(info.data.id, info.data);
      }),
    );
    if (!this.#closed) this.#nodes = next;
  }

  nodes(): NodeInfo[] {
    return [...this.#nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): NodeInfo | undefined {
    return this.#nodes.get(id);
  }

  /** Where a new conference goes: the live node with the fewest seats, then the fewest conferences; never a draining one. */
  leastLoaded(): NodeInfo | undefined {
    return this.nodes()
      .filter((n) => !n.draining)
      .sort((a, b) => a.load - b.load || a.conferences - b.conferences || a.id.localeCompare(b.id))[0];
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
