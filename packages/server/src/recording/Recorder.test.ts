import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Recorder } from './Recorder.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Recorder', () => {
  it('a full disk (writes to /dev/full fail with ENOSPC) ends the recording with "the disk is full"', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-rec-'));
    dirs.push(dir);
    symlinkSync('/dev/full', path.join(dir, 'events.jsonl'));
    const rec = await Recorder.open({ dir, maxBytes: 1 << 20 });
    const failed = new Promise<string>((resolve) => rec.on('failed', resolve));
    rec.event({ type: 'joined', id: 'p1', name: 'Ann' });
    expect(await failed).toBe('the disk is full');
    expect(rec.failed).toBe('the disk is full');
    // Closing still works and says how far it got.
    const summary = await rec.close();
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('an unwritable directory fails at once with the reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-rec-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'screen.bin')); // a directory where the file should be: EISDIR
    const rec = await Recorder.open({ dir, maxBytes: 1 << 20 });
    const reason = await new Promise<string>((resolve) => rec.on('failed', resolve));
    expect(reason).toContain('could not be written');
    await rec.close();
  });

  it('writes events as JSON lines with their time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-rec-'));
    dirs.push(dir);
    let now = 1000;
    const rec = await Recorder.open({ dir, maxBytes: 1 << 20, now: () => now });
    now = 3500;
    rec.event({ type: 'chat', message: { senderName: 'Ann', senderUser: null, text: 'hi', at: 'x' } });
    const s = await rec.close();
    expect(s.durationMs).toBe(2500);
    expect(readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { t: 2500, type: 'chat', message: { senderName: 'Ann', senderUser: null, text: 'hi', at: 'x' } },
    ]);
    expect(JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'))).toEqual({ seekPoints: [], screenBytes: 0, durationMs: 2500 });
  });

  it('the audio mixer\'s WAV segments count against the size cap (Janus writes them; they are measured)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-rec-'));
    dirs.push(dir);
    const rec = await Recorder.open({ dir, maxBytes: 64 * 1024, audioPollMs: 20 });
    const failed = new Promise<string>((resolve) => rec.on('failed', resolve));
    const sink = rec.mixSink();
    const file = sink.nextFile();
    sink.started(file);
    writeFileSync(path.join(dir, file), Buffer.alloc(16 * 1024));
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.failed).toBeNull();
    expect(rec.bytes).toBeGreaterThanOrEqual(16 * 1024);
    writeFileSync(path.join(dir, file), Buffer.alloc(80 * 1024)); // Janus wrote on
    expect(await failed).toBe('the recording reached its size limit (64 KiB)');
    // The summary leaves the WAV out: it becomes the audio track, counted by the service.
    expect((await rec.close()).bytes).toBeLessThan(16 * 1024);
  });
});
