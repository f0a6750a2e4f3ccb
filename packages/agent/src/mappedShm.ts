/**
 * A zero-copy MIT-SHM segment provider for node-x11 (its `createClient({ shm })` seam): the segment is
 * an unlinked /dev/shm file, as with node-x11's built-in provider, but mapped into this process with
 * mmap through koffi (an FFI with prebuilt binaries, an optional dependency), so `segment.buffer` IS the
 * pixels the X server wrote. The built-in provider pread()s every GetImage's bytes into a Buffer: on a
 * 1920x880 band (Chromium damages a whole text area for one typed character) that kernel copy cost
 * ~4.5 ms of CPU here, the largest single item of a typing pass (see bench/README, decision 0009).
 * Without koffi (not installed, another platform) this returns null and node-x11's own provider is used.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';

/** node-x11's provider contract (lib/shm-provider.js). */
export type ShmProvider = {
  flavor: 'fd';
  zeroCopy: boolean;
  create(size: number): MappedSegment;
  commit(seg: MappedSegment, offset?: number, length?: number): void;
  sync(seg: MappedSegment, offset?: number, length?: number): void;
  destroy(seg: MappedSegment): void;
};

type MappedSegment = { size: number; fd: number | null; buffer: Buffer; addr: unknown };

type Koffi = {
  load(lib: string): { func(decl: string): (...args: unknown[]) => unknown };
  view(ptr: unknown, len: number): ArrayBuffer;
  address(ptr: unknown): bigint;
};

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const MAP_FAILED = 0xffffffffffffffffn;
/**
 * How long a destroyed segment stays mapped. A Buffer over it must never be read after munmap (that is a
 * segfault, not an exception): the capture copies out of it right after each GetImage reply, but a
 * Detach's reply can be handled in the same socket read as that GetImage's, before the copy runs.
 */
const UNMAP_DELAY_MS = 2000;

let cached: ShmProvider | null | undefined;

/** The mapped provider, or null where it cannot work (no koffi, no /dev/shm, no libc mmap). */
export function mappedShmProvider(): ShmProvider | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== 'linux' || process.env.BATON_SHM_MAP === '0') return null;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const libc = koffi.load('libc.so.6');
    const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
    const munmap = libc.func('int munmap(void *addr, size_t len)');
    let counter = 0;
    cached = {
      flavor: 'fd',
      zeroCopy: true,
      create(size) {
        if (!(size > 0)) throw new Error('segment size must be positive');
        const path = `/dev/shm/baton-agent-${process.pid}-${counter++}`;
        const fd = fs.openSync(path, 'w+', 0o600);
        try {
          fs.ftruncateSync(fd, size);
          fs.unlinkSync(path);
          const addr = mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          if (addr === null || koffi.address(addr) === MAP_FAILED) throw new Error('mmap failed');
          return { size, fd, addr, buffer: Buffer.from(koffi.view(addr, size)) };
        } catch (err) {
          fs.closeSync(fd);
          try {
            fs.unlinkSync(path);
          } catch {
            // already unlinked
          }
          throw err;
        }
      },
      commit() {
        // the buffer is the segment
      },
      sync() {
        // the buffer is the segment
      },
      destroy(seg) {
        if (seg.fd !== null) fs.closeSync(seg.fd); // the mapping stays valid without the descriptor
        seg.fd = null;
        const { addr, size } = seg;
        seg.buffer = Buffer.alloc(0);
        setTimeout(() => munmap(addr, size), UNMAP_DELAY_MS).unref();
      },
    };
  } catch {
    cached = null;
  }
  return cached;
}
