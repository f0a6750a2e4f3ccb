/**
 * Marks and laser trails over one surface (the shared screen, a slide page), and drawing them. Place
 * it over the surface's picture, in a box that has the picture's CSS size (inset 0): it maps the
 * surface's coordinates (`width` x `height` units: screen pixels, or page units) onto whatever size
 * that box has, so Fit, 1:1 with scrolling and pinch zoom all keep marks on their spot. With a `tool`
 * it takes the pointer (nothing reaches what is under it, e.g. the remote desktop's input); without
 * one, the pointer passes through.
 */
import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_LASER_POINTS, MAX_MARK_POINTS, MAX_MARK_TEXT, sameSurface, surfaceKey, type Mark, type MarkAuthor, type MarkDraft, type Point, type Surface } from '@baton/protocol';
import { drawLaser, drawMark, drawMarks, markColor, type LaserTrail } from './drawMarks';

/** A drawing tool, or the laser pointer. */
export type AnnotationTool = MarkDraft['tool'] | 'laser';

/** Someone's laser points, as the conference client reports them. */
export interface LaserEvent {
  surface: Surface;
  author: MarkAuthor;
  points: Point[];
}

export interface AnnotationOverlayProps {
  surface: Surface;
  /** The surface's coordinate size (for the screen: its pixels). */
  width: number;
  height: number;
  /** Every mark; only this surface's are drawn. */
  marks: readonly Mark[];
  /** The tool in hand, or null: the overlay only shows. */
  tool: AnnotationTool | null;
  /** This participant's colour (hue), for what it draws before the server has it. */
  hue: number;
  onMark?: (draft: MarkDraft) => void;
  /** Laser points to send (batched, at most MAX_LASER_POINTS, about every 50 ms). */
  onLaser?: (points: Point[]) => void;
  /** Subscribes to the others' laser pointers; returns the unsubscribe. */
  subscribeLaser?: (fn: (e: LaserEvent) => void) => () => void;
}

const LASER_SEND_MS = 50;

export function AnnotationOverlay({ surface, width, height, marks, tool, hue, onMark, onLaser, subscribeLaser }: AnnotationOverlayProps) {
  const { t } = useTranslation();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [css, setCss] = useState({ w: 0, h: 0 });
  const shown = marks.filter((m) => sameSurface(m.surface, surface));
  /** The stroke or shape being drawn (surface units), and what was sent but not yet confirmed. */
  const draft = useRef<MarkDraft | null>(null);
  const [pending, setPending] = useState<MarkDraft[]>([]);
  const [textAt, setTextAt] = useState<Point | null>(null);
  const trails = useRef(new Map<string, LaserTrail>());
  const raf = useRef(0);
  const laserOut = useRef<{ points: Point[]; timer: ReturnType<typeof setTimeout> | null }>({ points: [], timer: null });
  const props = useRef({ onMark, onLaser, hue });
  props.current = { onMark, onLaser, hue };

  // The canvas follows its box's CSS size (times the device pixel ratio, so lines stay sharp).
  useLayoutEffect(() => {
    const c = canvasRef.current!;
    const measure = () => setCss({ w: c.clientWidth, h: c.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(c);
    return () => ro.disconnect();
  }, []);

  const redraw = () => {
    const c = canvasRef.current;
    if (!c || width <= 0 || height <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    const bw = Math.max(1, Math.round(css.w * dpr)), bh = Math.max(1, Math.round(css.h * dpr));
    if (c.width !== bw || c.height !== bh) {
      c.width = bw;
      c.height = bh;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, bw, bh);
    const sx = bw / width, sy = bh / height;
    ctx.setTransform(sx, 0, 0, sy, 0, 0);
    // Two CSS px at the current zoom, in surface units.
    const minWidth = css.w > 0 ? (2 * width) / css.w : 1;
    drawMarks(ctx, shown, minWidth);
    for (const p of pending) drawMark(ctx, p, props.current.hue, minWidth);
    if (draft.current) drawMark(ctx, draft.current, props.current.hue, minWidth);
    const now = performance.now();
    let live = false;
    for (const [key, trail] of trails.current) {
      if (drawLaser(ctx, trail, now, minWidth)) live = true;
      else trails.current.delete(key);
    }
    c.dataset.lasers = String(trails.current.size);
    // Fading trails need frames until they are gone; nothing else animates.
    if (live && !raf.current) raf.current = requestAnimationFrame(() => {
      raf.current = 0;
      redrawRef.current();
    });
  };
  const redrawRef = useRef(redraw);
  redrawRef.current = redraw;
  useEffect(() => redraw());

  // Sent marks are drawn until the server's copy arrives (the marks change) or a moment passes.
  useEffect(() => {
    if (pending.length === 0) return;
    const timer = setTimeout(() => setPending([]), 3000);
    return () => clearTimeout(timer);
  }, [pending]);
  useEffect(() => setPending([]), [marks]);

  // The others' laser pointers on this surface.
  const key = surfaceKey(surface);
  useEffect(() => {
    if (!subscribeLaser) return;
    return subscribeLaser((e) => {
      if (surfaceKey(e.surface) !== key) return;
      addTrail(e.author.id, e.author.hue, e.points);
    });
  }, [subscribeLaser, key]);
  useEffect(
    () => () => {
      cancelAnimationFrame(raf.current);
      raf.current = 0;
      if (laserOut.current.timer) clearTimeout(laserOut.current.timer);
    },
    [],
  );

  const addTrail = (id: string, hue: number, points: Point[]) => {
    const now = performance.now();
    let trail = trails.current.get(id);
    if (!trail) trails.current.set(id, (trail = { hue, points: [] }));
    // Points of one message arrived together: spread them over the last send interval, so the trail fades smoothly.
    points.forEach(([x, y], i) => trail!.points.push({ x, y, t: now - ((points.length - 1 - i) * LASER_SEND_MS) / Math.max(1, points.length) }));
    redrawRef.current();
  };

  const toSurface = (e: { clientX: number; clientY: number }): Point => {
    const r = canvasRef.current!.getBoundingClientRect();
    const x = ((e.clientX - r.left) / Math.max(1, r.width)) * width;
    const y = ((e.clientY - r.top) / Math.max(1, r.height)) * height;
    return [Math.round(Math.min(width, Math.max(0, x))), Math.round(Math.min(height, Math.max(0, y)))];
  };

  const sendLaser = (p: Point) => {
    const out = laserOut.current;
    out.points.push(p);
    if (out.points.length >= MAX_LASER_POINTS) flushLaser();
    else if (!out.timer) out.timer = setTimeout(flushLaser, LASER_SEND_MS);
  };
  const flushLaser = () => {
    const out = laserOut.current;
    if (out.timer) clearTimeout(out.timer);
    out.timer = null;
    const points = out.points.splice(0, MAX_LASER_POINTS);
    if (points.length > 0) props.current.onLaser?.(points);
  };

  const finish = (d: MarkDraft) => {
    props.current.onMark?.(d);
    setPending((p) => [...p, d]);
  };

  // --- the pointer, while a tool is in hand ------------------------------------------------------
  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (!tool) return;
    if (!e.isPrimary) {
      // A second finger: a pinch, not a stroke. Let the viewer zoom.
      draft.current = null;
      redraw();
      return;
    }
    e.stopPropagation();
    e.preventDefault();
    const p = toSurface(e);
    if (tool === 'text') {
      setTextAt(p);
      return;
    }
    e.currentTarget.setPointerCapture?.(e.pointerId);
    if (tool === 'laser') {
      addTrail('self', props.current.hue, [p]);
      sendLaser(p);
      return;
    }
    draft.current = tool === 'pen' || tool === 'highlighter' ? { tool, points: [p] } : { tool, points: [p, p] };
    redraw();
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (!tool || !e.isPrimary) return;
    e.stopPropagation();
    const p = toSurface(e);
    if (tool === 'laser') {
      // The laser points wherever the pointer goes over the surface (a mouse needs no button).
      if (e.pointerType === 'mouse' || e.buttons) {
        addTrail('self', props.current.hue, [p]);
        sendLaser(p);
      }
      return;
    }
    const d = draft.current;
    if (!d) return;
    if (d.tool === 'pen' || d.tool === 'highlighter') {
      const last = d.points[d.points.length - 1]!;
      if (Math.abs(last[0] - p[0]) + Math.abs(last[1] - p[1]) < 2) return;
      d.points.push(p);
      if (d.points.length >= MAX_MARK_POINTS) {
        // A long scribble goes as several strokes, each within the protocol's limit.
        finish(d);
        draft.current = { tool: d.tool, points: [p] };
      }
    } else if (d.tool === 'arrow' || d.tool === 'rectangle') {
      d.points[1] = p;
    }
    redraw();
  };
  const onPointerUp = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (!tool || !e.isPrimary) return;
    e.stopPropagation();
    if (tool === 'laser') return flushLaser();
    const d = draft.current;
    draft.current = null;
    if (!d) return;
    const tiny = (d.tool === 'arrow' || d.tool === 'rectangle') && Math.abs(d.points[0][0] - d.points[1][0]) + Math.abs(d.points[0][1] - d.points[1][1]) < 4;
    if (!tiny) finish(d);
    redraw();
  };
  const onPointerCancel = () => {
    draft.current = null;
    redraw();
  };

  const commitText = (value: string) => {
    const text = value.trim();
    if (textAt && text) finish({ tool: 'text', points: [textAt], text: text.slice(0, MAX_MARK_TEXT) });
    setTextAt(null);
  };
  const onTextKey = (e: ReactKeyboardEvent<HTMLInputElement>) => {
    e.stopPropagation(); // the page's shortcuts and the host's keyboard stay out of it
    if (e.key === 'Enter') commitText(e.currentTarget.value);
    else if (e.key === 'Escape') setTextAt(null);
  };

  const canvasStyle: CSSProperties = {
    position: 'absolute',
    inset: 0,
    width: '100%',
    height: '100%',
    pointerEvents: tool ? 'auto' : 'none',
    touchAction: tool ? 'none' : 'auto',
    cursor: tool === 'text' ? 'text' : tool === 'laser' ? 'none' : tool ? 'crosshair' : 'default',
  };
  return (
    <div style={{ position: 'absolute', inset: 0, pointerEvents: 'none' }}>
      <canvas
        ref={canvasRef}
        data-testid="annotation-overlay"
        data-surface={key}
        data-marks={shown.length}
        data-tool={tool ?? ''}
        aria-hidden="true"
        style={canvasStyle}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerCancel}
      />
      {textAt && (
        <input
          autoFocus
          className="annotation-text-input"
          data-testid="annotation-text-input"
          aria-label={t('annotate.textLabel')}
          placeholder={t('annotate.textPlaceholder')}
          maxLength={MAX_MARK_TEXT}
          onKeyDown={onTextKey}
          onBlur={(e) => commitText(e.currentTarget.value)}
          style={{
            position: 'absolute',
            left: `${(textAt[0] / width) * 100}%`,
            top: `${(textAt[1] / height) * 100}%`,
            pointerEvents: 'auto',
            color: markColor(hue),
          }}
        />
      )}
    </div>
  );
}
