// The timestamp strip: 40 black/white 16x16 blocks, 20 columns x 2 rows = 320x32 px at the top-left
// corner (one row of 32 px tiles, so tile-based servers rarely split it between two updates; a squarer
// strip spanning two tile rows was torn in 40% of noVNC samples). Blocks 0-31 carry the low 32 bits of
// Date.now() (ms), blocks 32-39 a CRC-8 of those four bytes, so a torn or blurred strip is rejected.
// Loaded as a <script> by the workload page and injected into viewer pages by the bench.
(function () {
  const COLS = 20, ROWS = 2, BLOCK = 16;
  const W = COLS * BLOCK, H = ROWS * BLOCK;
  const TWO32 = 4294967296;

  function crc8(bytes) {
    let c = 0;
    for (const b of bytes) {
      c ^= b;
      for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    }
    return c;
  }

  function bitsOf(ms) {
    const v = ms % TWO32;
    const bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    const all = [...bytes, crc8(bytes)];
    const bits = [];
    for (const byte of all) for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1);
    return bits;
  }

  /** Paint `ms` into a 2D context at (0,0). */
  function draw(ctx, ms) {
    const bits = bitsOf(ms);
    for (let i = 0; i < bits.length; i++) {
      ctx.fillStyle = bits[i] ? '#fff' : '#000';
      ctx.fillRect((i % COLS) * BLOCK, Math.floor(i / COLS) * BLOCK, BLOCK, BLOCK);
    }
  }

  /**
   * Decode RGBA pixels of the W x H strip region. Returns the full Date.now() value closest
   * before `now`, or null when a block is ambiguous or the CRC fails.
   */
  function decode(data, stride, now) {
    const bits = [];
    for (let i = 0; i < COLS * ROWS; i++) {
      const x0 = (i % COLS) * BLOCK + 4, y0 = Math.floor(i / COLS) * BLOCK + 4;
      let sum = 0;
      for (let y = y0; y < y0 + 8; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const o = (y * stride + x) * 4;
          sum += data[o] + data[o + 1] + data[o + 2];
        }
      }
      const mean = sum / 192;
      if (mean > 80 && mean < 175) return null;
      bits.push(mean >= 128 ? 1 : 0);
    }
    const bytes = [];
    for (let b = 0; b < 5; b++) {
      let v = 0;
      for (let i = 0; i < 8; i++) v = (v << 1) | bits[b * 8 + i];
      bytes.push(v);
    }
    if (crc8(bytes.slice(0, 4)) !== bytes[4]) return null;
    const low = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
    const back = (((now % TWO32) - low) % TWO32 + TWO32) % TWO32;
    return now - back;
  }

  globalThis.BenchStrip = { W, H, draw, decode, crc8 };
})();
