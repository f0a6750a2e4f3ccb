/** The remote cursor on its own canvas: only the rectangle it covered is redrawn when it moves. */
export class CursorOverlay {
  #enabled = true;
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  #shape: HTMLCanvasElement | null = null;
  #hotX = 0;
  #hotY = 0;
  #x = 0;
  #y = 0;
  #visible = false;
  #drawn: { x: number; y: number; w: number; h: number } | null = null;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas context for the cursor');
    this.#ctx = ctx;
  }

  get enabled(): boolean {
    return this.#enabled;
  }
  set enabled(on: boolean) {
    this.#enabled = on;
    this.#render();
  }

  resize(width: number, height: number): void {
    this.#canvas.width = width;
    this.#canvas.height = height;
    this.#drawn = null;
    this.#render();
  }

  setShape(w: number, h: number, hotX: number, hotY: number, rgba: Uint8Array): void {
    if (w === 0 || h === 0) {
      this.#shape = null;
    } else {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
      this.#shape = c;
    }
    this.#hotX = hotX;
    this.#hotY = hotY;
    this.#render();
  }

  dataUrl(): string {
    return this.#shape?.toDataURL('image/png') ?? '';
  }

  move(x: number, y: number, visible: boolean): void {
    this.#x = x;
    this.#y = y;
    this.#visible = visible;
    this.#render();
  }

  #render(): void {
    if (this.#drawn) {
      const d = this.#drawn;
      this.#ctx.clearRect(d.x, d.y, d.w, d.h);
      this.#drawn = null;
    }
    if (!this.#enabled || !this.#visible || !this.#shape) return;
    const x = this.#x - this.#hotX;
    const y = this.#y - this.#hotY;
    this.#ctx.drawImage(this.#shape, x, y);
    this.#drawn = { x, y, w: this.#shape.width, h: this.#shape.height };
  }
}
