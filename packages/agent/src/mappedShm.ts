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
 * Segments mapped and unmapped so far (tests read it). A destroyed segment is unmapped only when nothing
 * in this process can reach its memory any more: a Buffer over unmapped memory is a segfault, not an
 * exception, and the frame, a band being encoded or the video lane may still hold one (a Detach's reply
 * can even be handled in the same socket read as a GetImage's, before the capture has used its pixels).
 * So the mapping's ArrayBuffer is watched by a FinalizationRegistry and munmap runs once the garbage
 * collector has found it unreachable: every Buffer and view over it is gone by then.
 */
export const mappedShmStats = { mapped: 0, unmapped: 0, pending: 0 };

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
    // Each destroyed mapping, watched through its ArrayBuffer: munmap when that is collected.
    const unmapWhenUnreachable = new FinalizationRegistry<{ addr: unknown; size: number }>(({ addr, size }) => {
      munmap(addr, size);
      mappedShmStats.unmapped++;
      mappedShmStats.pending--;
    });
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
          const view = koffi.view(addr, size);
          mappedShmStats.mapped++;
          return { size, fd, addr, buffer: Buffer.from(view) };
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
        if (addr === null) return; // destroyed before
        // The last reference to the mapping's memory may be anywhere (see mappedShmStats): munmap once it is gone.
        unmapWhenUnreachable.register(seg.buffer.buffer, { addr, size });
        mappedShmStats.pending++;
        seg.addr = null;
        seg.buffer = Buffer.alloc(0);
      },
    };
  } catch {
    cached = null;
  }
  return cached;
}
