/**
 * Export of the whiteboard as the page draws it: the board's SVG without the page's own overlays
 * (selection, pick areas, the stroke being drawn), as an .svg file or rendered to a 1920x1080 PNG.
 */
import { BOARD_HEIGHT, BOARD_WIDTH } from '@baton/protocol';

/** The board as a standalone SVG document. */
export function boardSvgMarkup(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.querySelectorAll('.wb-ui, .wb-hit').forEach((n) => n.remove());
  for (const a of ['class', 'tabindex', 'role', 'aria-label', 'data-testid']) clone.removeAttribute(a);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(BOARD_WIDTH));
  clone.setAttribute('height', String(BOARD_HEIGHT));
  return new XMLSerializer().serializeToString(clone);
}

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadSvg(svg: SVGSVGElement): void {
  save(new Blob([boardSvgMarkup(svg)], { type: 'image/svg+xml' }), 'whiteboard.svg');
}

/** The board drawn into a canvas (the SVG as an image: CSP allows blob: images) and saved as PNG. */
export async function boardPng(svg: SVGSVGElement): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([boardSvgMarkup(svg)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = BOARD_WIDTH;
    canvas.height = BOARD_HEIGHT;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, BOARD_WIDTH, BOARD_HEIGHT);
    ctx.drawImage(img, 0, 0, BOARD_WIDTH, BOARD_HEIGHT);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function downloadPng(svg: SVGSVGElement): Promise<void> {
  save(await boardPng(svg), 'whiteboard.png');
}
