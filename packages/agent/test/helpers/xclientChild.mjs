// Test helper, run as its own process by xclientProcess.ts: "another program" on the X display. Its
// X connections have this process's PID, which X-Resource reports, unlike windows made by the test
// process itself. Commands come as JSON lines on stdin ({ id, op, ...args }); answers go as JSON lines.
import { createInterface } from 'node:readline';
import x11 from 'x11';

const display = process.argv[2];
const conns = [];
const presses = [];
const keys = [];

function open() {
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display }, (err, d) => {
      if (err) return reject(err);
      client.on('event', (ev) => {
        if (ev.name === 'ButtonPress') presses.push({ wid: ev.wid, x: ev.x, y: ev.y });
        if (ev.name === 'KeyPress') keys.push({ wid: ev.wid, keycode: ev.keycode });
      });
      client.on('error', () => undefined);
      conns.push(d);
      resolve(conns.length - 1);
    });
  });
}

const call = (fn) => new Promise((resolve, reject) => fn((err, r) => (err ? reject(err) : resolve(r))));
const atom = (X, name) => call((cb) => X.InternAtom(false, name, cb));

async function window(d, a) {
  const X = d.client;
  const wid = X.AllocID();
  const values = { backgroundPixel: (a.rgb[0] << 16) | (a.rgb[1] << 8) | a.rgb[2], eventMask: x11.eventMask.ButtonPress | x11.eventMask.KeyPress };
  if (a.overrideRedirect) values.overrideRedirect = 1;
  X.CreateWindow(wid, d.screen[0].root, a.x, a.y, a.w, a.h, 0, 0, 1, 0, values);
  if (a.title) X.ChangeProperty(0, wid, 39, 31, 8, a.title);
  if (a.transientFor) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(a.transientFor >>> 0);
    X.ChangeProperty(0, wid, 68, 33, 32, b);
  }
  if (a.type) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(await atom(X, a.type));
    X.ChangeProperty(0, wid, await atom(X, '_NET_WM_WINDOW_TYPE'), 4 /* ATOM */, 32, b);
  }
  X.MapWindow(wid);
  await X.sync();
  return wid;
}

async function putRgb(d, a) {
  const X = d.client;
  const rgb = Buffer.from(a.rgb, 'base64');
  const gc = X.AllocID();
  X.CreateGC(gc, a.wid, {});
  const rowsPerChunk = Math.max(1, Math.floor(200_000 / (a.w * 4)));
  for (let y0 = 0; y0 < a.h; y0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, a.h - y0);
    const buf = Buffer.alloc(a.w * rows * 4);
    for (let i = 0, j = y0 * a.w * 3; i < buf.length; i += 4, j += 3) {
      buf[i] = rgb[j + 2];
      buf[i + 1] = rgb[j + 1];
      buf[i + 2] = rgb[j];
    }
    X.PutImage(2, a.wid, gc, a.w, rows, a.x, a.y + y0, 0, 24, buf);
  }
  X.FreeGC(gc);
  await X.sync();
}

const ops = {
  open,
  pid: async () => process.pid,
  window: (a) => window(conns[a.conn ?? 0], a),
  putRgb: (a) => putRgb(conns[a.conn ?? 0], a),
  move: async (a) => {
    const X = conns[a.conn ?? 0].client;
    X.MoveWindow(a.wid, a.x, a.y);
    await X.sync();
  },
  destroy: async (a) => {
    const X = conns[a.conn ?? 0].client;
    X.DestroyWindow(a.wid);
    await X.sync();
  },
  presses: async () => presses.splice(0),
  keys: async () => keys.splice(0),
};

await open();
process.stdout.write(JSON.stringify({ id: 0, result: 'ready' }) + '\n');
createInterface({ input: process.stdin }).on('line', async (line) => {
  const msg = JSON.parse(line);
  try {
    const result = await ops[msg.op](msg);
    process.stdout.write(JSON.stringify({ id: msg.id, result: result ?? null }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: msg.id, error: String(err?.message ?? err) }) + '\n');
  }
}).on('close', () => process.exit(0));
