// Plain-text report of one bench result.
import { round } from './stats.mjs';

const fmt = (v) => (v === null || v === undefined ? '-' : String(v));

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => fmt(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? fmt(c).padEnd(widths[i]) : fmt(c).padStart(widths[i]))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

export function printReport(result) {
  const m = result.machine;
  const o = result.options;
  console.log(`\nBaton screen-sharing bench, ${result.startedAt}, ${m.cpus} CPUs, ${o.seconds} s per workload and system${o.rounds > 1 ? `, ${o.rounds} rounds (latencies pooled, the rest averaged)` : ''}`);
  const load = [m.load?.[0], m.loadAtEnd?.[0]].filter((v) => v !== undefined).map((v) => v.toFixed(1));
  console.log(`load average (1 min) at start / end: ${load.join(' / ')}${o.hog ? `; busy machine: stress-ng --cpu ${o.hog} for the whole run` : ''}`);
  if (Math.max(...load.map(Number)) > m.cpus) console.log(`WARNING: the machine was busy with other work (load > ${m.cpus} CPUs): every number below is slowed down by it.`);
  for (const [name, s] of Object.entries(result.systems)) {
    if (!s.available) console.log(`${name}: not available (${s.reason})`);
    else console.log(`${name}: ${s.label}${s.errors?.length ? `  [FAILED: ${s.errors.join('; ')}]` : ''}`);
  }
  console.log('');
  const rows = result.summary?.length ? result.summary : result.rows;
  table(
    ['workload', 'system', 'median ms', 'p95 ms', 'viewer fps', 'kB/s', 'of it video kB/s', 'server CPU %', 'agent CPU %', 'CPU ms/frame', 'viewer CPU %', 'host fps', 'torn %', 'shown at', 'via', 'load 1m', 'mismatched frames'],
    rows.map((r) => [r.workload, r.system, r.medianMs, r.p95Ms, r.viewerFps, r.kBps, r.videoKBps || null, r.serverCpu, r.agentCpu, r.cpuMsPerFrame, r.viewerCpu, r.hostFps, r.tornPct, r.viewerScale === null || r.viewerScale === undefined ? null : `${r.viewerScale}x`, r.path, r.load1, r.framesVerified ? `${r.framesMismatched}/${r.framesVerified}` : null]),
  );

  const by = (w, s) => rows.find((r) => r.workload === w && r.system === s);
  const ratios = [];
  for (const w of [...new Set(rows.map((r) => r.workload))]) {
    const b = by(w, 'baton'), x = by(w, 'x11vnc');
    if (!b || !x) continue;
    const q = (k) => (b[k] !== null && x[k] ? round(b[k] / x[k], 2) : null);
    const cpuB = (b.serverCpu ?? 0) + (b.agentCpu ?? 0);
    ratios.push([w, 'baton/x11vnc', q('medianMs'), q('p95Ms'), q('viewerFps'), q('kBps'), q('serverCpu'), x.serverCpu ? round(cpuB / x.serverCpu, 2) : null, q('viewerCpu')]);
  }
  if (ratios.length) {
    console.log('\nratios (lower is better except fps; "server+agent" compares Baton server+agent with x11vnc+websockify)');
    table(['workload', 'ratio', 'median', 'p95', 'fps', 'kB/s', 'server CPU', 'server+agent', 'viewer CPU'], ratios);
  }
  if (result.extras.length) {
    console.log('');
    table(
      ['system', 'metric', 'median ms', 'p95 ms', 'runs', 'note'],
      result.extras.map((e) => [e.system, e.metric, e.median, e.p95 ?? null, e.values?.length ?? 0, e.error ?? '']),
    );
  }
  for (const [name, s] of Object.entries(result.systems)) if (!s.available) console.log(`${name}: not available (${s.reason})`);
}
