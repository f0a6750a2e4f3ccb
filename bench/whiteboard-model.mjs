#!/usr/bin/env node
// Whiteboard model: Yjs (a CRDT) against a hand-written operation log, on the same workload.
// Prints what docs/decisions/0005-whiteboard-model.md quotes: bytes per stroke and per move, CPU to
// apply and to load, state size after N edits, and whether replicas that see the same edits in
// different orders end in the same picture. Run: node bench/whiteboard-model.mjs [--edits 3000]
import { performance } from 'node:perf_hooks';
// The same (ESM) Yjs the server's build imports: one instance, so its type checks hold.
import * as Y from 'yjs';

const args = process.argv.slice(2);
const EDITS = Number(args[args.indexOf('--edits') + 1] || 3000);
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const int = (n) => Math.floor(rand() * n);

/** A freehand stroke as the client sends it: whole-pixel points relative to x, y (as the web client rounds them). */
function stroke(points = 120) {
  const pts = [];
  let x = 0, y = 0;
  for (let i = 0; i < points; i++) pts.push((x += int(7) - 2), (y += int(7) - 3));
  return { type: 'stroke', x: int(1900), y: int(1000), points: pts, color: '#1f6feb', width: 3, z: int(1e6) };
}

/** A workload: 50% strokes, 10% shapes, 25% moves, 10% deletes, 5% recolours, by 3 authors. */
function workload(n) {
  const ops = [];
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const author = i % 3;
    if (r < 0.6 || ids.length === 0) {
      const id = `e${i}`;
      ids.push(id);
      ops.push({ author, op: 'add', id, el: r < 0.5 ? stroke() : { type: 'rect', x: int(1800), y: int(900), w: 100, h: 60, color: '#d73a49', fill: 'none', width: 2, z: int(1e6) } });
    } else if (r < 0.85) ops.push({ author, op: 'set', id: ids[int(ids.length)], fields: { x: int(1900), y: int(1000) } });
    else if (r < 0.95) ops.push({ author, op: 'del', id: ids.splice(int(ids.length), 1)[0] });
    else ops.push({ author, op: 'set', id: ids[int(ids.length)], fields: { color: '#2da44e' } });
  }
  return ops;
}

// ---- Yjs: a Y.Map of elements, each element a Y.Map of fields (concurrent edits of different fields merge)
function yApply(doc, o) {
  const els = doc.getMap('elements');
  doc.transact(() => {
    if (o.op === 'add') {
      const m = new Y.Map();
      els.set(o.id, m);
      for (const [k, v] of Object.entries(o.el)) m.set(k, v);
    } else if (o.op === 'set') {
      const m = els.get(o.id);
      if (m) for (const [k, v] of Object.entries(o.fields)) m.set(k, v);
    } else els.delete(o.id);
  }, 'local');
}

// ---- Op log: JSON operations, applied in arrival order, last writer wins per field
function logApply(state, o) {
  if (o.op === 'add') state.set(o.id, { ...o.el });
  else if (o.op === 'set') {
    const e = state.get(o.id);
    if (e) Object.assign(e, o.fields);
  } else state.delete(o.id);
}

const canonical = (m) => JSON.stringify([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
const yCanonical = (doc) => canonical(new Map(Object.entries(doc.getMap('elements').toJSON())));
const shuffle = (a) => { const b = a.slice(); for (let i = b.length - 1; i > 0; i--) { const j = int(i + 1); [b[i], b[j]] = [b[j], b[i]]; } return b; };
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

const ops = workload(EDITS);
const out = {};

// Bytes per edit, as sent on the wire.
{
  const doc = new Y.Doc();
  const sizes = { add: [], set: [], del: [] };
  const updates = [];
  doc.on('update', (u) => updates.push(u));
  for (const o of ops) {
    const before = updates.length;
    yApply(doc, o);
    for (const u of updates.slice(before)) sizes[o.op].push(u.length);
  }
  const avg = (a) => Math.round(a.reduce((s, x) => s + x, 0) / Math.max(1, a.length));
  const strokeBytes = [];
  const d2 = new Y.Doc();
  d2.on('update', (u) => strokeBytes.push(u.length));
  yApply(d2, { op: 'add', id: 'x', el: stroke() });
  const jsonStroke = JSON.stringify({ op: 'add', id: 'x', el: stroke() }).length;
  out.bytes = {
    yjsStroke120: strokeBytes[0], logStroke120: jsonStroke,
    yjsAddAvg: avg(sizes.add), yjsMoveAvg: avg(sizes.set), yjsDeleteAvg: avg(sizes.del),
    logMove: JSON.stringify({ op: 'set', id: 'e123', fields: { x: 1234, y: 567 } }).length, logDelete: JSON.stringify({ op: 'del', id: 'e123' }).length,
  };
  // State after N edits (what a late joiner downloads, what is stored after compaction).
  const state = Y.encodeStateAsUpdate(doc);
  const log = new Map();
  for (const o of ops) logApply(log, o);
  out.state = { edits: EDITS, elements: doc.getMap('elements').size, yjsState: state.length, logCompacted: canonical(log).length, yjsUpdatesUncompacted: updates.reduce((s, u) => s + u.length, 0) };

  // CPU: the server applies every update to its doc; a joiner loads the state.
  const server = new Y.Doc();
  let t = performance.now();
  for (const u of updates) Y.applyUpdate(server, u, 'remote');
  const applyMs = performance.now() - t;
  t = performance.now();
  const joiner = new Y.Doc();
  Y.applyUpdate(joiner, state);
  const loadMs = performance.now() - t;
  t = performance.now();
  Y.encodeStateAsUpdate(server);
  const encodeMs = performance.now() - t;
  t = performance.now();
  const log2 = new Map();
  for (const o of ops) logApply(log2, JSON.parse(JSON.stringify(o)));
  const logApplyMs = performance.now() - t;
  out.cpu = { yjsApplyPerUpdateUs: Math.round((applyMs * 1000) / updates.length), yjsLoadStateMs: +loadMs.toFixed(1), yjsEncodeStateMs: +encodeMs.toFixed(1), logApplyPerOpUs: +((logApplyMs * 1000) / ops.length).toFixed(1) };
}

// The server's check of each update before applying it (packages/server/src/data/validateWbUpdate.ts, built).
try {
  const { validateWbUpdate } = await import('../packages/server/dist/data/validateWbUpdate.js');
  const doc = new Y.Doc();
  const updates = [];
  const src = new Y.Doc();
  src.on('update', (u) => updates.push(u));
  for (const o of ops) yApply(src, o);
  let checkMs = 0, applyMs = 0, refused = 0;
  for (const u of updates) {
    let t = performance.now();
    const r = validateWbUpdate(doc, u, () => true);
    checkMs += performance.now() - t;
    if (!r.ok) { refused++; continue; }
    t = performance.now();
    Y.applyUpdate(doc, u, 'client');
    applyMs += performance.now() - t;
  }
  out.serverCheck = { updates: updates.length, refused, checkPerUpdateUs: Math.round((checkMs * 1000) / updates.length), applyPerUpdateUs: Math.round((applyMs * 1000) / updates.length) };
} catch (err) {
  out.serverCheck = `not measured (${err.message}); run npx tsc -b packages/server first`;
}

// Convergence: three replicas make the edits concurrently (each author's own edits locally), then
// receive the others' in a random order. Yjs: same state whatever the order. Op log without a
// server-imposed order: last arrival wins per field, so replicas disagree.
{
  const trials = 20;
  let yDiverged = 0, logDiverged = 0;
  for (let t = 0; t < trials; t++) {
    const w = workload(300);
    // Concurrency: every author's edit of an element another author made is made on their replica
    // after that element arrived there (simulated by creating all adds first everywhere).
    const adds = w.filter((o) => o.op === 'add');
    const rest = w.filter((o) => o.op !== 'add');
    const base = new Y.Doc();
    for (const o of adds) yApply(base, o);
    const baseState = Y.encodeStateAsUpdate(base);
    const replicas = [0, 1, 2].map(() => { const d = new Y.Doc(); Y.applyUpdate(d, baseState); return d; });
    const produced = [[], [], []];
    replicas.forEach((d, i) => d.on('update', (u, origin) => origin === 'local' && produced[i].push(u)));
    for (const o of rest) yApply(replicas[o.author], o);
    const all = produced.flatMap((us, i) => us.map((u) => ({ from: i, u })));
    for (let i = 0; i < 3; i++) for (const { from, u } of shuffle(all)) if (from !== i) Y.applyUpdate(replicas[i], u, 'remote');
    const seen = new Set(replicas.map(yCanonical));
    if (seen.size > 1) yDiverged++;

    const logs = [0, 1, 2].map(() => { const m = new Map(); for (const o of adds) logApply(m, o); return m; });
    for (const o of rest) logApply(logs[o.author], o);
    for (let i = 0; i < 3; i++) for (const o of shuffle(rest)) if (o.author !== i) logApply(logs[i], o);
    if (new Set(logs.map(canonical)).size > 1) logDiverged++;
  }
  out.convergence = { trials, yjsDiverged: yDiverged, opLogWithoutServerOrderDiverged: logDiverged };
}

// Undo of one's own edits only: Y.UndoManager with tracked origins, after another user moved the same element.
{
  const a = new Y.Doc(), b = new Y.Doc();
  a.on('update', (u, o) => o !== 'remote' && Y.applyUpdate(b, u, 'remote'));
  b.on('update', (u, o) => o !== 'remote' && Y.applyUpdate(a, u, 'remote'));
  const undo = new Y.UndoManager(a.getMap('elements'), { trackedOrigins: new Set(['local']), captureTimeout: 0 });
  yApply(a, { op: 'add', id: 's1', el: stroke(10) });
  yApply(a, { op: 'add', id: 's2', el: stroke(10) });
  yApply(b, { op: 'set', id: 's1', fields: { color: '#000000' } });
  undo.undo(); // removes s2 (a's last), keeps b's recolour of s1
  out.undo = { afterUndo: Object.keys(a.getMap('elements').toJSON()).sort().join(','), s1ColourKept: a.getMap('elements').get('s1').get('color') === '#000000', replicasEqual: yCanonical(a) === yCanonical(b) };
}

out.loadAverage = (await import('node:os')).loadavg().map((l) => +l.toFixed(1));
console.log(JSON.stringify(out, null, 2));
console.error(`Yjs state after ${EDITS} edits: ${kb(out.state.yjsState)} (op log compacted: ${kb(out.state.logCompacted)})`);
