#!/usr/bin/env node
// The cost of recording: for each workload (default typing and video), the host's desktop at 1920x1080
// is shared by the real agent to a real server; the server's CPU is measured for a while without
// recording, then as long again while recording, and the recording's bytes are counted. Prints a
// table with both extrapolated to one hour and writes bench/results/recording-<time>.json.
// Usage: node bench/recording.mjs [--seconds 60] [--workloads typing,video]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ProcessSet } from './lib/procs.mjs';
import { startXvfb } from './lib/xvfb.mjs';
import { startPageServer } from './lib/pageServer.mjs';
import { launchHostBrowser } from './lib/browsers.mjs';
import * as baton from './systems/baton.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, workloads: { type: 'string', default: 'typing,video' } } });
const SECONDS = Number(values.seconds);
const WORKLOADS = values.workloads.split(',');
const W = 1920;
const H = 1080;
const HERE = new URL('.', import.meta.url).pathname;

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A conference-socket client as the organizer's page, to start and stop recording. */
async function organizer(url, conferenceId, cookie) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/conference/${conferenceId}`, { headers: { cookie, origin: url } });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const waiting = new Map();
  let welcomed;
  const welcome = new Promise((resolve, reject) => {
    welcomed = resolve;
    ws.once('close', (code, reason) => reject(new Error(`conference socket closed before welcome: ${code} ${reason}`)));
  });
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'welcome') welcomed(m);
    if ((m.type === 'ack' || m.type === 'error') && waiting.has(m.rid)) waiting.get(m.rid)(m);
  });
  let rid = 0;
  const request = (msg) =>
    new Promise((resolve) => {
      const id = `b${++rid}`;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ ...msg, rid: id }));
    });
  // hello is answered by welcome (no ack): the seat is in the meeting then.
  ws.send(JSON.stringify({ type: 'hello', v: 1, client: 'web', rid: 'b0' }));
  await welcome;
  return { request, close: () => ws.close(1000) };
}

const procs = new ProcessSet();
const results = [];
try {
  const xvfb = await startXvfb(procs, { width: W, height: H });
  const pages = await startPageServer([join(HERE, 'pages')]);
  const hostBrowser = await launchHostBrowser(xvfb.display, W, H);
  for (const workload of WORKLOADS) {
    await hostBrowser.show(pages.url, workload);
    const sys = await baton.start({ procs, display: xvfb.display, env: { ...process.env, DISPLAY: xvfb.display } });
    try {
      const org = await organizer(sys.url, sys.conferenceId, sys.hostCookie);
      const server = sys.serverPids[0];
      await sleep(5000); // past the share's first full screen
      const c0 = cpuSeconds(server);
      await sleep(SECONDS * 1000);
      const c1 = cpuSeconds(server);
      const ack = await org.request({ type: 'recording.start' });
      if (ack.type !== 'ack') throw new Error(`recording.start: ${JSON.stringify(ack)}`);
      const r0 = Date.now();
      await sleep(SECONDS * 1000);
      const c2 = cpuSeconds(server);
      await org.request({ type: 'recording.stop' });
      const ms = Date.now() - r0;
      org.close();
      const res = await fetch(`${sys.url}/api/recordings/${ack.recordingId}`, { headers: { cookie: sys.hostCookie } });
      let rec = await res.json();
      for (let i = 0; rec.status === 'recording' && i < 50; i++) {
        await sleep(100);
        rec = await (await fetch(`${sys.url}/api/recordings/${ack.recordingId}`, { headers: { cookie: sys.hostCookie } })).json();
      }
      const index = await (await fetch(`${sys.url}/api/recordings/${ack.recordingId}/index`, { headers: { cookie: sys.hostCookie } })).json();
      const hour = 3_600_000 / ms;
      results.push({
        workload,
        seconds: Math.round(ms / 1000),
        bytes: rec.bytes,
        keyframes: index.seekPoints.length,
        mbPerHour: +((rec.bytes * hour) / 1024 / 1024).toFixed(1),
        serverCpuWithout: +((100 * (c1 - c0)) / SECONDS).toFixed(1),
        serverCpuWith: +((100 * (c2 - c1)) / (ms / 1000)).toFixed(1),
        cpuSecondsPerHourForRecording: +(((c2 - c1) - (c1 - c0) * (ms / 1000 / SECONDS)) * hour).toFixed(0),
      });
    } finally {
      await sys.stop();
    }
  }
  await hostBrowser.close();
  await pages.close();
} finally {
  await procs.close?.();
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nRecording cost, ${W}x${H}, ${SECONDS} s without then ${SECONDS} s with recording per workload (load average ${load})`);
console.log('workload | recorded | bytes | keyframes | MiB per hour | server CPU % without | with | CPU s per hour for recording');
for (const r of results) console.log(`${r.workload} | ${r.seconds} s | ${r.bytes} | ${r.keyframes} | ${r.mbPerHour} | ${r.serverCpuWithout} | ${r.serverCpuWith} | ${r.cpuSecondsPerHourForRecording}`);
mkdirSync(join(HERE, 'results'), { recursive: true });
const out = join(HERE, 'results', `recording-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ width: W, height: H, seconds: SECONDS, load, results }, null, 2));
console.log(`written ${out}`);
process.exit(0);
