/** The host's keys: the pipe protocol, single keys on a terminal, and consent answers handed through. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ShareSource } from '@baton/protocol';
import { HostConsole } from '../src/HostConsole.js';

const SOURCES: ShareSource[] = [
  { id: 'screen', kind: 'screen', label: 'Whole screen', width: 1280, height: 720 },
  { id: 'monitor:left', kind: 'monitor', label: 'left', width: 700, height: 720 },
  { id: 'window:0x200003', kind: 'window', label: 'Logo (XLogo)', width: 200, height: 150 },
];

function setup(tty: boolean) {
  const input = Object.assign(new PassThrough(), tty ? { isTTY: true, rawModes: [] as boolean[], setRawMode(on: boolean) { this.rawModes.push(on); } } : {});
  const output = new PassThrough();
  let out = '';
  output.on('data', (d) => (out += d));
  const calls: string[] = [];
  let paused = false;
  let asking = false;
  const consent: string[] = [];
  const con = new HostConsole({
    input,
    output,
    asking: () => asking,
    commands: {
      sources: async () => SOURCES,
      current: () => 'screen',
      switchTo: async (id) => void calls.push(`switch ${id}`),
      paused: () => paused,
      setPaused: (on) => {
        paused = on;
        calls.push(on ? 'pause' : 'resume');
      },
      state: () => 'Sharing the screen',
    },
  });
  con.consentInput.on('data', (d) => consent.push(String(d)));
  con.start();
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
    expect(cond()).toBe(true);
  };
  return { input, con, calls, consent, out: () => out, setAsking: (on: boolean) => (asking = on), until };
}

describe('HostConsole', () => {
  it('pipe: lists, switches by number and by id, pauses and resumes, prints the state', async () => {
    const t = setup(false);
    t.input.write('s\n');
    await t.until(() => t.out().includes('2: window Logo (XLogo) 200x150 [window:0x200003]'));
    expect(t.out()).toContain('0: * the whole screen 1280x720 [screen]');
    t.input.write('1\nsource window:0x200003\np\np\npause\nr\ni\nbogus\n');
    await t.until(() => t.out().includes('Unknown command'));
    expect(t.calls).toEqual(['switch monitor:left', 'switch window:0x200003', 'pause', 'resume', 'pause', 'resume']);
    expect(t.out()).toContain('State: Sharing the screen');
    t.con.close();
  });

  it('pipe: while a consent question is open the next line is its answer, not a command', async () => {
    const t = setup(false);
    t.setAsking(true);
    t.input.write('p\n');
    await t.until(() => t.consent.join('') === 'p\n');
    expect(t.calls).toEqual([]);
    t.con.close();
  });

  it('terminal: raw mode, single keys, a number picks; Ctrl-C interrupts; answers are echoed and handed on', async () => {
    const t = setup(true);
    let interrupted = 0;
    t.con.on('interrupt', () => interrupted++);
    expect((t.input as unknown as { rawModes: boolean[] }).rawModes).toEqual([true]);
    t.input.write('s');
    await t.until(() => t.out().includes('Press its number'));
    t.input.write('2p\x03');
    await t.until(() => t.calls.length === 2);
    expect(t.calls).toEqual(['switch window:0x200003', 'pause']);
    expect(interrupted).toBe(1);
    t.setAsking(true);
    t.input.write('yx\x7f\r');
    await t.until(() => t.consent.length === 1);
    expect(t.consent).toEqual(['y\n']);
    t.con.close();
    expect((t.input as unknown as { rawModes: boolean[] }).rawModes).toEqual([true, false]);
  });
});
