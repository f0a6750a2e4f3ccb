// ClusterNode's sweep and the sockets a node relays to a conference's home (real NATS, in process).
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, type LocalConferences } from '../src/cluster/ClusterNode.js';
import { DEFAULT_TEST_NATS_URL, reachable } from './clusterSupport.js';

const natsUrl = process.env.BATON_TEST_NATS_URL || DEFAULT_TEST_NATS_URL;

const haveNats = await reachable(natsUrl);
if (!haveNats) {
  if (process.env.CI === 'true') throw new Error(`NATS at ${natsUrl} is unavailable; CI=true requires it for the cluster sweep tests`);
  console.warn(`\n!!! SKIPPING the cluster sweep tests: NATS at ${natsUrl} is unavailable. !!!\n`);
}

const idle: LocalConferences = {
  load: () => new Map(),
  abandonAll: () => {},
  abandon: () => {},
  apply: () => {},
  endByAdministrator: async () => false,
  summaries: () => [],
  admitRemoteViewer: async () => ({ kind: 'refused', code: 4003, reason: 'not here' }),
};

/** Stands for a SocketRelay: records whether the sweep closed it. */
function relayTo(node: string) {
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const relay = { node, closes: 0, closed: done, close: () => (relay.closes++, closed()), on: () => relay };
  return relay;
}

describe.skipIf(!haveNats)('ClusterNode sweep of relayed sockets', () => {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  let node: ClusterNode;

  beforeAll(async () => {
    node = await ClusterNode.connect({ config: { natsUrl, nodeId: 'A', prefix, internalUrl: null, leaseTtlMs: 1000, shareCascade: true } });
    await node.start('http://127.0.0.1:1', idle);
  });
  afterAll(async () => {
    await node?.close();
    const nc = await connect({ servers: natsUrl });
    const kvm = new Kvm(nc);
    for (const b of ['nodes', 'homes']) await (await kvm.open(`${prefix}-${b}`)).destroy().catch(() => {});
    await nc.close();
  });

  it('leaves a socket of a conference that ended at its home to the home (which closes it with its reason), and closes one whose home is gone', async () => {
    // A conference homed on A, then ended there: its entry is released.
    const home = await node.homes.resolve('ended');
    expect(home.node).toBe('A');
    await node.homes.release('ended', home.epoch);
    expect(await node.homes.lookup('ended')).toBeNull();
    const toEnded = relayTo('A');
    node.trackRelay('ended', toEnded);
    // A socket relayed to a node with no lease: the next sweep closes it (clients reconnect, 1012).
    const toGone = relayTo('gone');
    node.trackRelay('elsewhere', toGone);
    await toGone.closed;
    // That sweep saw 'ended' without an entry too, and left its socket alone: closing it would have told
    // the client "reconnecting" before the home's 4004, and the reconnect would start the meeting again.
    expect(toEnded.closes).toBe(0);
    const again = relayTo('gone');
    node.trackRelay('elsewhere', again);
    await again.closed;
    expect(toEnded.closes).toBe(0);
  });
});
