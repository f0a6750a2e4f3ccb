import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappedShmProvider, mappedShmStats } from '../src/mappedShm.js';
import { ScreenCapture } from '../src/ScreenCapture.js';
import { photoLike } from './helpers/painter.js';
import { xvfbAvailable } from './helpers/xvfb.js';
import { XDesktop } from './helpers/xDesktop.js';

const HAVE_X = xvfbAvailable('mapped MIT-SHM tests');

describe('mappedShmProvider', () => {
  it('maps the segment: bytes written to its file show in its buffer without a read', () => {
    const p = mappedShmProvider();
    // koffi is an optional dependency; on Linux x64 with it installed the provider must be there.
    expect(p).not.toBeNull();
    const seg = p!.create(64 * 1024);
    try {
      expect(p!.zeroCopy).toBe(true);
      expect(seg.buffer.length).toBe(64 * 1024);
      fs.writeSync(seg.fd!, Buffer.from('pixels'), 0, 6, 40_000);
      p!.sync(seg);
      expect(seg.buffer.subarray(40_000, 40_006).toString()).toBe('pixels');
      seg.buffer.write('back', 100);
      const back = Buffer.alloc(4);
      fs.readSync(seg.fd!, back, 0, 4, 100);
      expect(back.toString()).toBe('back');
    } finally {
      p!.destroy(seg);
    }
    expect(seg.fd).toBeNull();
  });

  it('unmaps a destroyed segment only once nothing can read it any more', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const collect = async (): Promise<void> => {
      gc();
      await new Promise((r) => setImmediate(r));
    };
    // Segments destroyed earlier in this file are unmapped first, so the count below is this one's.
    await expect
      .poll(async () => {
        await collect();
        return mappedShmStats.pending;
      })
      .toBe(0);
    const p = mappedShmProvider()!;
    const seg = p.create(256 * 1024);
    const unmapped = mappedShmStats.unmapped;
    // A frame (or a band being encoded) still holds a view of the pixels when the segment is destroyed.
    let held: Buffer | null = seg.buffer.subarray(1000, 1000 + 4096);
    held.fill(0x5a);
    p.destroy(seg);
    p.destroy(seg); // twice is harmless
    expect(seg.buffer.length).toBe(0);
    expect(mappedShmStats.pending).toBe(1);
    for (let i = 0; i < 3; i++) await collect();
    // Still mapped and readable: a read after munmap would crash this process.
    expect(mappedShmStats.unmapped).toBe(unmapped);
    expect(held.every((b) => b === 0x5a)).toBe(true);
    held = null;
    await expect
      .poll(async () => {
        await collect();
        return mappedShmStats.unmapped;
      })
      .toBe(unmapped + 1);
  });
});

describe.skipIf(!HAVE_X)('ScreenCapture over a mapped segment', () => {
  let desktop: XDesktop;

  beforeAll(async () => {
    desktop = await XDesktop.start(1280, 720);
  });
  afterAll(() => desktop?.stop());

  it('reads the same pixels as plain GetImage, whole screen and partial bands', async () => {
    const root = desktop.painter.conn.root;
    await desktop.painter.putRgb(root, 0, 0, 1280, 720, photoLike(1280, 720, 7));
    const mapped = await ScreenCapture.open({ display: desktop.display, tileSize: 16 });
    const plain = await ScreenCapture.open({ display: desktop.display, tileSize: 16, useShm: false });
    try {
      expect(mapped.shm).toBe(true);
      expect(plain.shm).toBe(false);
      await mapped.capture();
      await plain.capture();
      expect(mapped.frame.data.equals(plain.frame.data)).toBe(true);
      // A band that is not the screen's width (rows copied one by one out of the segment).
      const damaged = new Promise<void>((r) => mapped.once('damage', () => r()));
      await desktop.painter.putRgb(root, 300, 200, 333, 77, photoLike(333, 77, 9));
      await damaged;
      const second = await mapped.capture();
      expect(second.full).toBe(false);
      expect(second.rects.every((r) => r.width < 1280)).toBe(true);
      await plain.capture({ full: true });
      expect(mapped.frame.data.equals(plain.frame.data)).toBe(true);
      // With a mask painted over what is read, the frame is a buffer of its own (bands copied out of the
      // segment), and the same pixels as plain GetImage plus the mask; without it, in the segment again.
      const mask = { rect: { x: 600, y: 100, width: 40, height: 20 }, pixels: Buffer.alloc(40 * 20 * 4, 0x7f) };
      mapped.setMask(mask);
      await mapped.capture();
      const withMask = Buffer.from(plain.frame.data);
      for (let y = 0; y < 20; y++) mask.pixels.copy(withMask, (100 + y) * 1280 * 4 + 600 * 4, y * 160, (y + 1) * 160);
      expect(mapped.frame.data.equals(withMask)).toBe(true);
      const moved = new Promise<void>((r) => mapped.once('damage', () => r()));
      await desktop.painter.putRgb(root, 700, 400, 50, 50, photoLike(50, 50, 11));
      await moved;
      await mapped.capture();
      await plain.capture({ full: true });
      for (let y = 0; y < 20; y++) mask.pixels.copy(plain.frame.data, (100 + y) * 1280 * 4 + 600 * 4, y * 160, (y + 1) * 160);
      expect(mapped.frame.data.equals(plain.frame.data)).toBe(true);
      mapped.setMask(null);
      await mapped.capture();
      await plain.capture({ full: true });
      expect(mapped.frame.data.equals(plain.frame.data)).toBe(true);
    } finally {
      await mapped.close();
      await plain.close();
    }
  });
});
