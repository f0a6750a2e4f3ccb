/**
 * Monitors of the X screen (RandR 1.5 GetMonitors, falling back to active CRTCs) and the choice of
 * the shared area: the whole screen or one monitor picked by name or index.
 */
import type { X11Connection } from './X11Connection.js';
import { xcall, type RandrExt, type XCallback } from './x11.js';

export type Rect = { x: number; y: number; width: number; height: number };

export type MonitorInfo = Rect & { name: string; primary: boolean };

/** The shared area in root-window coordinates; `monitor` is null for the whole screen. */
export type SharedArea = Rect & { monitor: string | null; window?: string };

const RR_GET_MONITORS = 42;

/** RandR 1.5 GetMonitors, which node-x11 does not implement: built from the wire spec. */
function getMonitors(conn: X11Connection, randr: RandrExt): Promise<Array<Rect & { nameAtom: number; primary: boolean }>> {
  const X = conn.client;
  return xcall((cb: XCallback<Array<Rect & { nameAtom: number; primary: boolean }>>) => {
    X.seq_num++;
    const b = Buffer.alloc(12);
    b.writeUInt8(randr.majorOpcode, 0);
    b.writeUInt8(RR_GET_MONITORS, 1);
    b.writeUInt16LE(3, 2);
    b.writeUInt32LE(conn.root >>> 0, 4);
    b.writeUInt8(1, 8); // get_active
    X.pack_stream.put(b);
    X.replies[X.seq_num] = [
      (buf: Buffer) => {
        const n = buf.readUInt32LE(4);
        const out: Array<Rect & { nameAtom: number; primary: boolean }> = [];
        let pos = 24; // reply body after the 32-byte header (node-x11 strips the first 8)
        for (let i = 0; i < n && pos + 24 <= buf.length; i++) {
          const nOutput = buf.readUInt16LE(pos + 6);
          out.push({
            nameAtom: buf.readUInt32LE(pos),
            primary: buf.readUInt8(pos + 4) !== 0,
            x: buf.readInt16LE(pos + 8),
            y: buf.readInt16LE(pos + 10),
            width: buf.readUInt16LE(pos + 12),
            height: buf.readUInt16LE(pos + 14),
          });
          pos += 24 + 4 * nOutput;
        }
        return out;
      },
      cb,
    ];
    X.pack_stream.submit(true);
  });
}

/** Monitors in RandR's order (index 0 first). Empty when RandR is missing. */
export async function listMonitors(conn: X11Connection): Promise<MonitorInfo[]> {
  let randr: RandrExt;
  try {
    randr = await conn.extension<RandrExt>('randr');
  } catch {
    return [];
  }
  if (randr.major_version > 1 || (randr.major_version === 1 && randr.minor_version >= 5)) {
    const raw = await getMonitors(conn, randr);
    return Promise.all(
      raw.map(async (m) => ({
        name: await xcall<string>((cb) => conn.client.GetAtomName(m.nameAtom, cb)).catch(() => `monitor-${m.nameAtom}`),
        primary: m.primary,
        x: m.x,
        y: m.y,
        width: m.width,
        height: m.height,
      })),
    );
  }
  // RandR < 1.5: one monitor per active CRTC, named after its first output.
  const res = await xcall<{ crtcs: number[]; config_timestamp: number }>((cb) => randr.GetScreenResourcesCurrent(conn.root, cb));
  const out: MonitorInfo[] = [];
  for (const crtc of res.crtcs) {
    const info = await xcall<{ x: number; y: number; width: number; height: number; mode: number; output: number[] }>((cb) => randr.GetCrtcInfo(crtc, res.config_timestamp, cb));
    if (!info.mode || info.width === 0) continue;
    const first = info.output[0];
    const name = first !== undefined ? (await xcall<{ name: string }>((cb) => randr.GetOutputInfo(first, res.config_timestamp, cb))).name : `crtc-${crtc}`;
    out.push({ name, primary: out.length === 0, x: info.x, y: info.y, width: info.width, height: info.height });
  }
  return out;
}

export class MonitorNotFoundError extends Error {
  override name = 'MonitorNotFoundError';
}

/**
 * The area to share: the whole screen when `spec` is undefined, else the monitor whose name equals
 * `spec`, or whose index it is. The result is clipped to the screen.
 */
export function chooseArea(screen: { width: number; height: number }, monitors: MonitorInfo[], spec?: string): SharedArea {
  if (spec === undefined || spec === '') return { x: 0, y: 0, width: screen.width, height: screen.height, monitor: null };
  const byName = monitors.find((m) => m.name === spec);
  const m = byName ?? (/^\d+$/.test(spec) ? monitors[Number(spec)] : undefined);
  if (!m) {
    const names = monitors.map((mm, i) => `${i}: ${mm.name} ${mm.width}x${mm.height}+${mm.x}+${mm.y}`).join(', ');
    throw new MonitorNotFoundError(`no monitor '${spec}' (monitors: ${names || 'none'})`);
  }
  const x = Math.max(0, Math.min(m.x, screen.width - 1));
  const y = Math.max(0, Math.min(m.y, screen.height - 1));
  const width = Math.max(1, Math.min(m.width, screen.width - x));
  const height = Math.max(1, Math.min(m.height, screen.height - y));
  return { x, y, width, height, monitor: m.name };
}
