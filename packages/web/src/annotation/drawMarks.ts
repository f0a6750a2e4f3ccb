/**
 * Drawing annotation marks and laser trails on a 2D canvas whose transform maps surface units (shared
 * screen pixels, or a slide's page units) to device pixels. Remote text is only ever drawn with
 * fillText: nothing from another participant becomes HTML.
 */
import { LASER_FADE_MS, MARK_STYLE, type Mark, type MarkDraft, type Point } from '@baton/protocol';

/** A person's colour for marks (strong enough to read over any screen content). */
export function markColor(hue: number, alpha = 1): string {
  return `hsla(${hue}, 85%, 45%, ${alpha})`;
}

type Drawable = MarkDraft & { author?: { hue: number } };

/**
 * One mark. `minWidth`: the thinnest line in surface units that still shows as ~2 CSS px at the
 * current zoom (a pen stroke drawn on a 4K screen seen in a small window must not vanish).
 */
export function drawMark(ctx: CanvasRenderingContext2D, mark: Drawable, hue: number, minWidth: number): void {
  const pts = mark.points as Point[];
  ctx.save();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  const width = Math.max(MARK_STYLE[mark.tool], minWidth);
  ctx.lineWidth = width;
  ctx.strokeStyle = markColor(hue, mark.tool === 'highlighter' ? 0.35 : 1);
  ctx.fillStyle = ctx.strokeStyle;
  switch (mark.tool) {
    case 'pen':
    case 'highlighter':
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0]![0], pts[0]![1], width / 2, 0, Math.PI * 2);
        ctx.fill();
        break;
      }
      ctx.beginPath();
      ctx.moveTo(pts[0]![0], pts[0]![1]);
      for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i]![0], pts[i]![1]);
      ctx.stroke();
      break;
    case 'arrow': {
      const [[x0, y0], [x1, y1]] = pts as [Point, Point];
      const a = Math.atan2(y1 - y0, x1 - x0);
      const head = Math.max(14, width * 4);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.moveTo(x1 - head * Math.cos(a - 0.45), y1 - head * Math.sin(a - 0.45));
      ctx.lineTo(x1, y1);
      ctx.lineTo(x1 - head * Math.cos(a + 0.45), y1 - head * Math.sin(a + 0.45));
      ctx.stroke();
      break;
    }
    case 'rectangle': {
      const [[x0, y0], [x1, y1]] = pts as [Point, Point];
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      break;
    }
    case 'text': {
      const [x, y] = pts[0]!;
      const size = Math.max(MARK_STYLE.text, minWidth * 6);
      ctx.font = `600 ${size}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      // A light halo keeps the text readable over dark and light content alike.
      ctx.lineWidth = size / 6;
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.strokeText(mark.text, x, y);
      ctx.fillText(mark.text, x, y);
      break;
    }
  }
  ctx.restore();
}

export function drawMarks(ctx: CanvasRenderingContext2D, marks: readonly Mark[], minWidth: number): void {
  for (const m of marks) drawMark(ctx, m, m.author.hue, minWidth);
}

/** A laser trail: points with the time each arrived (performance.now()). */
export interface LaserTrail {
  hue: number;
  points: { x: number; y: number; t: number }[];
}

/** Draws the trail, each segment fading with its age; returns false once all of it has faded. */
export function drawLaser(ctx: CanvasRenderingContext2D, trail: LaserTrail, now: number, minWidth: number): boolean {
  const live = trail.points.filter((p) => now - p.t < LASER_FADE_MS);
  trail.points = live;
  if (live.length === 0) return false;
  ctx.save();
  ctx.lineCap = 'round';
  const width = Math.max(6, minWidth * 3);
  for (let i = 1; i < live.length; i++) {
    const a = live[i - 1]!, b = live[i]!;
    const alpha = Math.max(0, 1 - (now - b.t) / LASER_FADE_MS);
    ctx.strokeStyle = `hsla(${trail.hue}, 100%, 50%, ${alpha})`;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }
  const head = live[live.length - 1]!;
  const alpha = Math.max(0, 1 - (now - head.t) / LASER_FADE_MS);
  ctx.fillStyle = `hsla(${trail.hue}, 100%, 50%, ${alpha})`;
  ctx.beginPath();
  ctx.arc(head.x, head.y, width, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
  return true;
}
