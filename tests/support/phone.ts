/**
 * Telephones on loopback for the SIP tests: baresip (auto-answer, a sine tone as its microphone,
 * sndfile recording what it hears, a TCP control socket to hang up) and sipp scenarios (busy,
 * digest auth, no answer). Also what the tests need to check a tone: a WAV reader and a Goertzel
 * level at a frequency.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Phones started here die with the test process, even when a test times out before its cleanup. */
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

export const haveBaresip = spawnSync('sh', ['-c', 'command -v baresip'], { encoding: 'utf8' }).status === 0;
export const haveSipp = spawnSync('sh', ['-c', 'command -v sipp'], { encoding: 'utf8' }).status === 0;

/** A free UDP port on 127.0.0.1 (bind, read, close). */
export async function freeUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

export interface Baresip {
  port: number;
  dir: string;
  /** Lines baresip printed so far. */
  output(): string;
  /** Resolves when baresip printed a line matching re. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  /** Hang up the current call (ctrl_tcp). */
  hangup(): Promise<void>;
  /** What baresip heard (sndfile's decoder-side dump), as mono samples. */
  heard(): { rate: number; samples: Float32Array } | null;
  /** How many calls it recorded so far. */
  calls(): number;
  stop(): Promise<void>;
}

/** Starts baresip as an auto-answering phone playing a `tone` Hz sine. */
export async function startBaresip(tone: number, number = '+441234567890'): Promise<Baresip> {
  // baresip binds its SIP port for UDP and TCP and the next port for TLS; a port found free a moment
  // earlier can be taken meanwhile by any other process (other test files run alongside). Such a start
  // fails at once with "Address already in use": try again on other ports rather than fail the test.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBaresipOnce(tone, number);
    } catch (e) {
      if (!(e instanceof PortTakenError) || attempt >= 5) throw e;
    }
  }
}

class PortTakenError extends Error {}

async function startBaresipOnce(tone: number, number: string): Promise<Baresip> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-baresip-'));
  const port = await freeUdpPort();
  const ctrl = await freeTcpPort();
  const rtp = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    path.join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${port}`,
      'net_interface 127.0.0.1',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aubridge.so',
      'module sndfile.so',
      'module account.so',
      'module menu.so',
      'module ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrl}`,
      `audio_source ausine,${tone}`,
      'audio_player aubridge,nil',
      'audio_alert aubridge,nil',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'auplay_srate 48000',
      'auplay_channels 2',
      `snd_path ${dir}`,
      `rtp_ports ${rtp}-${rtp + 40}`,
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'accounts'), `<sip:${number}@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n`);
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const child: ChildProcess = track(spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) if (w.re.test(out)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (re: RegExp, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(out)) return resolve();
      const t = setTimeout(() => reject(new Error(`baresip never printed ${re}; output:\n${out.slice(-3000)}`)), ms);
      waiters.push({ re, resolve: () => (clearTimeout(t), resolve()) });
    });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Resolves when baresip printed re (no time limit: it only ever races the ready wait).
  const seen = (re: RegExp) => new Promise<void>((resolve) => (re.test(out) ? resolve() : waiters.push({ re, resolve })));
  // A bind failure makes baresip give up at once ("init failed"), and usually exit; its output says why.
  const failed = Promise.race([exited, seen(/init failed|Address already in use/)]).then(() => {
    throw /Address already in use/.test(out)
      ? new PortTakenError(`baresip could not bind its ports: ${out.slice(-500)}`)
      : new Error(`baresip stopped before it was ready; output:\n${out.slice(-3000)}`);
  });
  failed.catch(() => {}); // once ready, a later exit (stop()) is not an error
  try {
    await Promise.race([waitFor(/baresip is ready/), failed]);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    dir,
    output: () => out,
    waitFor,
    async hangup() {
      const s = net.connect(ctrl, '127.0.0.1');
      await new Promise<void>((r, j) => (s.once('connect', () => r()), s.once('error', j)));
      const body = JSON.stringify({ command: 'hangup', params: '', token: 'h' });
      s.write(`${Buffer.byteLength(body)}:${body},`);
      await new Promise((r) => setTimeout(r, 300)); // eslint-disable-line -- let the netstring go
      s.destroy();
    },
    heard() {
      // One recording per call: the newest is the current (or last) call's.
      const f = readdirSync(dir)
        .filter((n) => /^dump-.*-dec\.wav$/.test(n))
        .map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs }))
        .sort((a, b) => b.t - a.t)[0]?.n;
      return f ? readWav(path.join(dir, f)) : null;
    },
    calls() {
      return readdirSync(dir).filter((n) => /^dump-.*-dec\.wav$/.test(n)).length;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
        await new Promise((r) => child.once('exit', r));
        clearTimeout(hard);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a 16-bit PCM WAV into mono floats (channels averaged). Tolerates a header not yet finalised. */
export function readWav(file: string): { rate: number; samples: Float32Array } {
  const b = readFileSync(file);
  let off = 12;
  let rate = 8000;
  let channels = 1;
  let data = b.subarray(44);
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    }
    if (id === 'data') {
      data = b.subarray(off + 8, len > 0 && off + 8 + len <= b.length ? off + 8 + len : b.length);
      break;
    }
    off += 8 + len;
  }
  const frames = Math.floor(data.length / 2 / channels);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let v = 0;
    for (let c = 0; c < channels; c++) v += data.readInt16LE((i * channels + c) * 2);
    samples[i] = v / channels / 32768;
  }
  return { rate, samples };
}

/** Amplitude (0..1) of the `freq` component of these samples (Goertzel). */
export function toneLevel(samples: Float32Array, rate: number, freq: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / n;
}

/** The loudest-tone check used by the tests: level at freq vs. the level at a control frequency. */
export function hasTone(samples: Float32Array, rate: number, freq: number): { level: number; control: number } {
  return { level: toneLevel(samples, rate, freq), control: toneLevel(samples, rate, freq * 1.37) };
}

export interface Sipp {
  port: number;
  stop(): Promise<void>;
  /** Resolves with sipp's exit code. */
  exited: Promise<number | null>;
  output(): string;
}

/** Runs a sipp UAS scenario (XML text) on a free port of 127.0.0.1. */
export async function startSipp(scenarioXml: string, extra: string[] = []): Promise<Sipp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-sipp-'));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'uas.xml');
  writeFileSync(file, scenarioXml);
  const port = await freeUdpPort();
  const child = track(spawn('sipp', ['-sf', file, '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin', ...extra], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
  let out = '';
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const running = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await udpBound(port);
  return {
    port,
    exited: running,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        // sipp can sit in a scenario it cannot finish; do not let it outlive the test.
        const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
        await running;
        clearTimeout(hard);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something listens on this UDP port (read from /proc/net/udp). */
async function udpBound(port: number, ms = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const end = Date.now() + ms;
  while (!readFileSync('/proc/net/udp', 'utf8').includes(hex)) {
    if (Date.now() > end) throw new Error(`nothing bound UDP port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A 16-bit mono PCM WAV: a tone in 400 ms bursts with 100 ms gaps (speech-like, so noise suppression keeps it). */
export function toneWav(freq: number, seconds = 6, rate = 48_000): Buffer {
  const n = seconds * rate;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const inBurst = i % (rate / 2) < rate * 0.4;
    const v = inBurst ? Math.sin((2 * Math.PI * freq * i) / rate) * 0.5 : 0;
    data.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
