/**
 * The conference's ICE servers (`welcome.iceServers`, `ice.refresh`: browser-style `{urls, username,
 * credential}`) in node-datachannel's form. STUN goes as its URL string; TURN goes as an object,
 * because a TURN REST username is `expiry:participant` and its colon cannot survive libdatachannel's
 * `turn:user:pass@host` URL parsing.
 */
import type { IceServer } from '@baton/protocol';
import type { IceServer as NodeIceServer, RelayType } from 'node-datachannel';

export type NodeIceEntry = string | NodeIceServer;

const URL_RE = /^(stuns?|turns?):(?:\[([^\]]+)\]|([^:?/\[\]]+))(?::(\d+))?(?:\?transport=(udp|tcp))?$/i;

/** Convert, dropping (and naming) URLs that cannot be used, so one bad entry does not lose the rest. */
export function toNodeIceServers(servers: readonly IceServer[]): { entries: NodeIceEntry[]; skipped: string[] } {
  const entries: NodeIceEntry[] = [];
  const skipped: string[] = [];
  for (const server of servers) {
    for (const url of server.urls) {
      const m = URL_RE.exec(url.trim());
      if (!m) {
        skipped.push(url);
        continue;
      }
      const scheme = m[1]!.toLowerCase();
      const host = m[2] ?? m[3]!;
      const transport = m[5]?.toLowerCase();
      if (scheme === 'stun' || scheme === 'stuns') {
        const port = Number(m[4] ?? (scheme === 'stuns' ? 5349 : 3478));
        entries.push(`stun:${m[2] ? `[${host}]` : host}:${port}`);
        continue;
      }
      if (server.username === undefined || server.credential === undefined) {
        skipped.push(url); // TURN without credentials cannot allocate
        continue;
      }
      const tls = scheme === 'turns';
      const relayType: RelayType = tls ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
      entries.push({ hostname: host, port: Number(m[4] ?? (tls ? 5349 : 3478)), username: server.username, password: server.credential, relayType });
    }
  }
  return { entries, skipped };
}
