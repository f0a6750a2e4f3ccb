/** The SDP of a telephone leg: our G.711 offer and what we need from the phone's answer. */

export type G711 = 'pcmu' | 'pcma';
export const PAYLOAD_TYPE: Record<G711, number> = { pcmu: 0, pcma: 8 };
/** RFC 4733 telephone-event, offered so DTMF arrives as events rather than tones. */
export const DTMF_PT = 101;

export function offerSdp(address: string, port: number, sessionId: string): string {
  return [
    'v=0',
    `o=baton ${sessionId} 1 IN IP4 ${address}`,
    's=baton',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 ${DTMF_PT}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    `a=rtpmap:${DTMF_PT} telephone-event/8000`,
    `a=fmtp:${DTMF_PT} 0-16`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface RemoteMedia {
  address: string;
  port: number;
  codec: G711;
  payloadType: number;
  /** The phone's telephone-event payload type, if it offered one. */
  dtmfPayloadType: number | null;
}

/** The phone's answer: its RTP address, the first G.711 codec it accepted; throws when there is none. */
export function parseAnswer(sdp: string): RemoteMedia {
  const lines = sdp.split(/\r?\n/);
  let sessionAddr: string | null = null;
  let mediaAddr: string | null = null;
  let port = -1;
  let pts: number[] = [];
  const rtpmap = new Map<number, string>();
  let inAudio = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      inAudio = line.startsWith('m=audio ') && port < 0;
      if (inAudio) {
        const parts = line.split(' ');
        port = Number(parts[1]);
        pts = parts.slice(3).map(Number);
      }
    } else if (line.startsWith('c=IN IP4 ')) {
      const a = line.slice(9).trim().split('/')[0]!;
      if (inAudio) mediaAddr = a;
      else if (port < 0) sessionAddr = a;
    } else if (inAudio && line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+) ([^/]+)\//.exec(line);
      if (m) rtpmap.set(Number(m[1]), m[2]!.toLowerCase());
    }
  }
  const address = mediaAddr ?? sessionAddr;
  if (!address || !(port > 0 && port < 65536)) throw new Error('the phone answered without an audio address');
  const name = (pt: number) => rtpmap.get(pt) ?? (pt === 0 ? 'pcmu' : pt === 8 ? 'pcma' : '');
  const chosen = pts.find((pt) => name(pt) === 'pcmu' || name(pt) === 'pcma');
  if (chosen === undefined) throw new Error('the phone accepted neither PCMU nor PCMA');
  const dtmf = pts.find((pt) => name(pt) === 'telephone-event');
  return { address, port, codec: name(chosen) as G711, payloadType: chosen, dtmfPayloadType: dtmf ?? null };
}
