// A plain X client of the bench on the host's display: reads the screen (reference for the
// late-joiner test) and watches for input arriving at the X server (input-to-injection test).
import x11 from 'x11';

export function openX(display) {
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display }, (err, d) => (err ? reject(err) : resolve(new XClient(d))));
    client.on('error', reject);
  });
}

class XClient {
  #closed = false;

  constructor(display) {
    this.display = display;
    this.X = display.client;
    this.screen = display.screen[0];
    this.root = this.screen.root;
    this.events = [];
    this.X.on('event', (ev) => this.events.push({ name: ev.name, at: Date.now(), keycode: ev.keycode, detail: ev.detail }));
    this.X.on('error', () => {});
  }

  get width() {
    return this.screen.pixel_width;
  }
  get height() {
    return this.screen.pixel_height;
  }

  /** RGB of the screen sampled at the centre of every step x step cell, row-major. */
  screenSamples(step) {
    const { width, height } = this;
    return new Promise((resolve, reject) => {
      this.X.GetImage(2, this.root, 0, 0, width, height, 0xffffffff, (err, img) => {
        if (err) return reject(new Error(`GetImage failed: ${err.message ?? err}`));
        const bpl = img.data.length / height; // 32 bits per pixel, BGRX
        const cols = Math.floor(width / step), rows = Math.floor(height / step);
        const out = new Uint8Array(cols * rows * 3);
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < cols; q++) {
            const o = (r * step + step / 2) * bpl + (q * step + step / 2) * 4;
            const i = (r * cols + q) * 3;
            out[i] = img.data[o + 2];
            out[i + 1] = img.data[o + 1];
            out[i + 2] = img.data[o];
          }
        }
        resolve(out);
      });
    });
  }

  /**
   * Map a window over the whole screen that takes the keyboard focus and receives key and button
   * presses: what the X server delivers to it, and when, is the ground truth of injected input.
   */
  async coverScreen() {
    const X = this.X;
    const wid = X.AllocID();
    const ev = x11.eventMask;
    X.CreateWindow(wid, this.root, 0, 0, this.width, this.height, 0, 0, 1, 0, {
      backgroundPixel: 0x202020,
      overrideRedirect: 1,
      eventMask: ev.KeyPress | ev.ButtonPress | ev.ButtonRelease | ev.KeyRelease,
    });
    X.MapWindow(wid);
    X.RaiseWindow(wid);
    X.SetInputFocus(wid, 1);
    await this.sync();
    this.window = wid;
    return wid;
  }

  uncover() {
    if (!this.window) return;
    this.X.DestroyWindow(this.window);
    this.window = null;
  }

  /** Round trip: every request sent before has been processed. */
  sync() {
    return new Promise((resolve) => this.X.GetInputFocus(() => resolve()));
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.X.terminate();
    } catch {
      /* already gone */
    }
  }
}
