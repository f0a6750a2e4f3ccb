/**
 * The remote cursor on its own canvas, the size of the cursor image, placed over the screen by CSS
 * (percentages of the screen, so it follows Fit and zoom with no relayout): a move changes only its
 * position. A transparent overlay the size of the screen cost the compositor a second screen-sized
 * blended quad on every frame (bench, drag in a software-composited viewer: ~40 ms of the display
 * compositor's CPU per drawn frame); this one costs a cursor-sized quad.
 *
 * The canvas carries where it is in screen pixels (`data-x`, `data-y`; `data-shown`) for tests.
 */
export class CursorOverlay {
  #enabled = true;
  readonly #canvas: HTMLCanvasElement;
  #screenW = 0;
  #screenH = 0;
  #hotX = 0;
  #hotY = 0;
  #x = 0;
  #y = 0;
  #visible = false;
  /** The image, and a canvas of it made when a data URL is first asked for. */
  #shapeData: ImageData | null = null;
  #shape: HTMLCanvasElement | null = null;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    if (!canvas.getContext('2d')) throw new Error('no 2D canvas context for the cursor');
    this.#render();
  }

  get enabled(): boolean {
    return this.#enabled;
  }
  set enabled(on: boolean) {
    this.#enabled = on;
    this.#render();
  }

  /** The shared screen's size: the overlay is placed in fractions of it. */
  resize(width: number, height: number): void {
    this.#screenW = width;
    this.#screenH = height;
    this.#render();
  }

  setShape(w: number, h: number, hotX: number, hotY: number, rgba: Uint8Array): void {
    const c = this.#canvas;
    if (w === 0 || h === 0) {
      this.#shape = null;
      this.#shapeData = null;
    } else {
      c.width = w;
      c.height = h;
      const img = new ImageData(new Uint8ClampedArray(rgba), w, h);
      c.getContext('2d')!.putImageData(img, 0, 0);
      this.#shape = null;
      this.#shapeData = img;
    }
    this.#hotX = hotX;
    this.#hotY = hotY;
    this.#render();
  }

  /** The cursor image as a PNG data URL ('' without one), for the page's own CSS cursor. */
  dataUrl(): string {
    if (!this.#shapeData) return '';
    if (!this.#shape) {
      const c = document.createElement('canvas');
      c.width = this.#shapeData.width;
      c.height = this.#shapeData.height;
      c.getContext('2d')!.putImageData(this.#shapeData, 0, 0);
      this.#shape = c;
    }
    return this.#shape.toDataURL('image/png');
  }

  move(x: number, y: number, visible: boolean): void {
    this.#x = x;
    this.#y = y;
    this.#visible = visible;
    this.#render();
  }

  #render(): void {
    const c = this.#canvas;
    const shown = this.#enabled && this.#visible && this.#shapeData !== null && this.#screenW > 0 && this.#screenH > 0;
    c.dataset.shown = String(shown);
    c.style.visibility = shown ? 'visible' : 'hidden';
    if (!shown) return;
    const x = this.#x - this.#hotX;
    const y = this.#y - this.#hotY;
    c.dataset.x = String(x);
    c.dataset.y = String(y);
    const s = c.style;
    s.left = `${(100 * x) / this.#screenW}%`;
    s.top = `${(100 * y) / this.#screenH}%`;
    s.width = `${(100 * c.width) / this.#screenW}%`;
    s.height = `${(100 * c.height) / this.#screenH}%`;
  }
}
