/**
 * Which node is home of each conference: a key per conference in a KV bucket without TTL, written
 * only by compare-and-set (`kv.create` for a first claim, `kv.update` on the revision read to move
 * a conference off a dead node), so two nodes can never both win. The entry's revision is the
 * fencing epoch: a home is valid only while its node's lease is, and a conference moves only after
 * that lease has expired, so a newer epoch always means the older holder had lost its lease.
 */
import type { KV } from '@nats-io/kv';
import { HomeEntry } from './types.js';
import type { NodeDirectory } from './NodeDirectory.js';

export interface HomeDirectoryOptions {
  kv: KV;
  nodes: NodeDirectory;
  log?: { info?(o: unknown, m?: string): void; warn(o: unknown, m?: string): void };
}

export interface Home {
  node: string;
  /** The entry's KV revision: the fencing epoch of this placement. */
  epoch: number;
}

const key = (conferenceId: string) => `c.${conferenceId}`;

export class HomeDirectory {
  readonly #o: HomeDirectoryOptions;

  constructor(opts: HomeDirectoryOptions) {
    this.#o = opts;
  }

  /** The recorded home, live or not. */
  async lookup(conferenceId: string): Promise<Home | null> {
    const e = await this.#o.kv.get(key(conferenceId));
    if (!e || e.operation !== 'PUT') return null;
    const v = HomeEntry.safeParse(JSON.parse(e.string()));
    return v.success ? { node: v.data.node, epoch: e.revision } : null;
  }

  /**
   * The conference's home, placing it (least-loaded live node) when it has none or its node's lease
   * is gone. Races between nodes are settled by the compare-and-set; the loser reads the winner's entry.
   */
  async resolve(conferenceId: string): Promise<Home> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const e = await this.#o.kv.get(key(conferenceId));
      const current = e && e.operation === 'PUT' ? HomeEntry.safeParse(JSON.parse(e.string())) : null;
      if (current?.success && this.#o.nodes.get(current.data.node)) return { node: current.data.node, epoch: e!.revision };
      // A node that died moments ago may still look alive to others; the freshest view decides.
      if (attempt > 0) await this.#o.nodes.refresh();
      const target = this.#o.nodes.leastLoaded();
      if (!target) throw new Error('no live node in the cluster');
      const value = JSON.stringify({ node: target.id, claimedAt: new Date().toISOString() } satisfies HomeEntry);
      try {
        const epoch = e && e.operation === 'PUT' ? await this.#o.kv.update(key(conferenceId), value, e.revision) : await this.#o.kv.create(key(conferenceId), value);
        this.#o.log?.info?.({ conference: conferenceId, node: target.id, epoch, from: current?.success ? current.data.node : null }, 'conference placed');
        return { node: target.id, epoch };
      } catch (err) {
        if (!/wrong last sequence|key exists/i.test((err as Error).message)) throw err;
        // Someone else placed it first: read theirs.
      }
    }
    throw new Error(`could not place conference ${conferenceId}`);
  }

  /** Every recorded home: conference id to node. */
  async all(): Promise<Map<string, Home>> {
    const out = new Map<string, Home>();
    const keys: string[] = [];
    for await (const k of await this.#o.kv.keys('c.*')) keys.push(k);
    await Promise.all(
      keys.map(async (k) => {
        const h = await this.lookup(k.slice(2));
        if (h) out.set(k.slice(2), h);
      }),
    );
    return out;
  }

  /** The conference ended on its home: forget the placement (only if it is still this epoch's). */
  async release(conferenceId: string, epoch: number): Promise<void> {
    await this.#o.kv.delete(key(conferenceId), { previousSeq: epoch }).catch(() => {});
  }
}
