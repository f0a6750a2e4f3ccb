/**
 * A named lease in the store (table leases, migration 0015), for work one node of a cluster does at a
 * time, like the mail outbox's leased rows: claim() takes it when it is free or expired, or renews it
 * when it is ours. A killed holder's lease expires after `ms`; then another node's claim wins.
 */
import type { Store } from '../store/Store.js';

export interface StoreLeaseOptions {
  store: Pick<Store, 'claimLease'>;
  name: string;
  holder: string;
  ms: number;
}

export class StoreLease {
  readonly #opts: StoreLeaseOptions;

  constructor(opts: StoreLeaseOptions) {
    this.#opts = opts;
  }

  /** True if this holder has the lease for the next `ms`. */
  async claim(now = Date.now()): Promise<boolean> {
    const { store, name, holder, ms } = this.#opts;
    return store.claimLease(name, holder, new Date(now).toISOString(), new Date(now + ms).toISOString());
  }
}
