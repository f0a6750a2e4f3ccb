/**
 * Recording the mix: which enable_recording requests AudioBridgeServer sends and when, against a
 * stand-in for the Janus connection (the real thing is in tests/e2e/recording-audio.e2e.test.ts).
 * A segment runs per stretch with legs in the room; a Janus restart ends it; a file that never shows
 * up on this machine (a Janus elsewhere) or a refused request is reported once and not retried.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { AudioBridgeServer } from './AudioBridgeServer.js';
import type { JanusAudioService } from './JanusAudioService.js';
import type { MixSink } from '../conferencing/types.js';

class FakeHandle extends EventEmitter {
  feed = 0;
  async join() {
    return { feed: ++FakeHandle.n, room: 1 };
  }
  async configure() {
    return { jsep: { type: 'answer' as const, sdp: 'v=0 answer' } };
  }
  async leave() {}
  async detach() {}
  static n = 0;
}

class FakeJanus extends TypedEmitter<{ up: []; down: [] }> {
  ready = true;
  /** Each recordRoom call: room, and file or null (stop). */
  readonly calls: [number, string | null][] = [];
  /** Write the file like a Janus on this machine would; false: a Janus elsewhere. */
  writes = true;
  refuse = false;
  async attach() {
    return new FakeHandle();
  }
  async createRoom() {}
  async destroyRoom() {}
  async recordRoom(room: number, rec: { dir: string; file: string } | null) {
    if (rec && this.refuse) throw new Error('mkdir error: 20 (Not a directory)');
    this.calls.push([room, rec?.file ?? null]);
    if (rec && this.writes) writeFileSync(path.join(rec.dir, rec.file), 'RIFF');
  }
}

const tmp = mkdtempSync(path.join(tmpdir(), 'baton-mix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sink(parent: string) {
  const dir = mkdtempSync(path.join(parent, 'rec-')); // each recording its own directory
  const log: string[] = [];
  let n = 0;
  const s: MixSink = {
    dir,
    nextFile: () => `audio-${++n}.wav`,
    started: (f) => log.push(`start ${f}`),
    ended: (f) => log.push(`end ${f}`),
    unavailable: (r) => log.push(`unavailable ${r}`),
  };
  return { s, log };
}

describe('AudioBridgeServer records the mix in segments', () => {
  it('one segment per stretch with someone in the room; a Janus restart ends it; stop ends it', async () => {
    const janus = new FakeJanus();
    const server = new AudioBridgeServer({ conferenceId: 'c1', service: janus as unknown as JanusAudioService, mixFileCheckMs: 50 });
    const { s, log } = sink(tmp);
    await server.recordMix(s);
    expect(janus.calls).toEqual([]); // nobody in the room: nothing to write
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    expect(log).toEqual(['start audio-1.wav']);
    await server.handleJoin('b', 'B', 'v=0 offer', false);
    await server.handleLeave('a');
    await server.recordMix(s);
    expect(log).toEqual(['start audio-1.wav']); // still someone in: the same segment
    await server.handleLeave('b');
    await server.recordMix(s);
    expect(log).toEqual(['start audio-1.wav', 'end audio-1.wav']);
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    expect(log.at(-1)).toBe('start audio-2.wav');
    // Janus dies: the segment ends; back up and rejoined, a new one starts in the new room.
    janus.ready = false;
    janus.emit('down');
    await server.recordMix(s);
    expect(log.at(-1)).toBe('end audio-2.wav');
    janus.ready = true;
    janus.emit('up');
    await new Promise((r) => setTimeout(r, 10));
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    expect(log.at(-1)).toBe('start audio-3.wav');
    const rooms = janus.calls.filter(([, f]) => f !== null).map(([r]) => r);
    expect(rooms[2]).not.toBe(rooms[1]);
    await server.recordMix(null);
    expect(log.at(-1)).toBe('end audio-3.wav');
    expect(janus.calls.at(-1)![1]).toBeNull();
    await new Promise((r) => setTimeout(r, 100)); // the file checks found every file
    expect(log.filter((l) => l.startsWith('unavailable'))).toEqual([]);
    server.close();
  });

  it('a Janus elsewhere (the file never appears here) is reported once and not asked again', async () => {
    const janus = new FakeJanus();
    janus.writes = false;
    const server = new AudioBridgeServer({ conferenceId: 'c2', service: janus as unknown as JanusAudioService, mixFileCheckMs: 50 });
    const { s, log } = sink(tmp);
    await server.recordMix(s);
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    await new Promise((r) => setTimeout(r, 150));
    await server.recordMix(s);
    expect(log[0]).toBe('start audio-1.wav');
    expect(log.filter((l) => l.startsWith('unavailable'))).toHaveLength(1);
    expect(log.join('\n')).toContain('--janus-url');
    expect(log).toContain('end audio-1.wav');
    expect(janus.calls.at(-1)![1]).toBeNull(); // Janus told to stop writing over there
    await server.handleLeave('a');
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    expect(janus.calls.filter(([, f]) => f !== null)).toHaveLength(1);
    server.close();
  });

  it('a refused request is reported once', async () => {
    const janus = new FakeJanus();
    janus.refuse = true;
    const server = new AudioBridgeServer({ conferenceId: 'c3', service: janus as unknown as JanusAudioService });
    const { s, log } = sink(tmp);
    await server.recordMix(s);
    await server.handleJoin('a', 'A', 'v=0 offer', false);
    await server.recordMix(s);
    await server.handleJoin('b', 'B', 'v=0 offer', false);
    await server.recordMix(s);
    expect(log).toEqual(['unavailable the audio mixer (Janus) refused to record: mkdir error: 20 (Not a directory)']);
    server.close();
  });
});

