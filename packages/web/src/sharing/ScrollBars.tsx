/**
 * Scrollbars drawn by the page over a scrolled view, always visible and light on the dark stage:
 * native ones are transient overlays on phones and on some desktops (and hidden in headless browsers),
 * so a viewer at 1:1 or zoomed in could not tell that there is more screen. The thumbs can be dragged.
 */
import { useEffect, useLayoutEffect, useRef, useState, type PointerEvent as ReactPointerEvent, type RefObject } from 'react';

type Metrics = { left: number; top: number; width: number; height: number; viewW: number; viewH: number };

const THICK = 10;

export function ScrollBars({ target }: { target: RefObject<HTMLElement | null> }) {
  const [m, setM] = useState<Metrics | null>(null);
  const mRef = useRef<Metrics | null>(null);
  const read = () => {
    const el = target.current;
    if (!el) return;
    const next = { left: el.scrollLeft, top: el.scrollTop, width: el.scrollWidth, height: el.scrollHeight, viewW: el.clientWidth, viewH: el.clientHeight };
    const prev = mRef.current;
    if (prev && Object.keys(next).every((k) => prev[k as keyof Metrics] === next[k as keyof Metrics])) return;
    mRef.current = next;
    setM(next);
  };
  // The content's size follows the parent's renders (zoom, mode); scrolling is an event.
  useLayoutEffect(read);
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    el.addEventListener('scroll', read, { passive: true });
    const ro = new ResizeObserver(read);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => {
      el.removeEventListener('scroll', read);
      ro.disconnect();
    };
  }, [target]);

  if (!m) return null;
  const h = m.width > m.viewW + 1;
  const v = m.height > m.viewH + 1;
  if (!h && !v) return null;

  const drag = (axis: 'x' | 'y') => (e: ReactPointerEvent<HTMLDivElement>) => {
    const el = target.current;
    const track = e.currentTarget.parentElement;
    if (!el || !track) return;
    e.preventDefault();
    e.stopPropagation();
    const thumb = e.currentTarget;
    thumb.setPointerCapture(e.pointerId);
    const start = axis === 'x' ? e.clientX : e.clientY;
    const from = axis === 'x' ? el.scrollLeft : el.scrollTop;
    const rect = track.getBoundingClientRect();
    const ratio = axis === 'x' ? el.scrollWidth / rect.width : el.scrollHeight / rect.height;
    const move = (ev: PointerEvent) => {
      const d = ((axis === 'x' ? ev.clientX : ev.clientY) - start) * ratio;
      if (axis === 'x') el.scrollLeft = from + d;
      else el.scrollTop = from + d;
    };
    const up = () => {
      thumb.removeEventListener('pointermove', move);
      thumb.removeEventListener('pointerup', up);
      thumb.removeEventListener('pointercancel', up);
    };
    thumb.addEventListener('pointermove', move);
    thumb.addEventListener('pointerup', up);
    thumb.addEventListener('pointercancel', up);
  };

  return (
    <>
      {h && (
        <div className="screen-scrollbar horizontal" data-testid="share-scrollbar-h" style={{ left: 0, right: v ? THICK : 0, bottom: 0, height: THICK }}>
          <div
            className="screen-scrollbar-thumb"
            data-testid="share-scrollbar-h-thumb"
            onPointerDown={drag('x')}
            style={{ left: `${(m.left / m.width) * 100}%`, width: `${(m.viewW / m.width) * 100}%`, top: 1, bottom: 1 }}
          />
        </div>
      )}
      {v && (
        <div className="screen-scrollbar vertical" data-testid="share-scrollbar-v" style={{ top: 0, bottom: h ? THICK : 0, right: 0, width: THICK }}>
          <div
            className="screen-scrollbar-thumb"
            data-testid="share-scrollbar-v-thumb"
            onPointerDown={drag('y')}
            style={{ top: `${(m.top / m.height) * 100}%`, height: `${(m.viewH / m.height) * 100}%`, left: 1, right: 1 }}
          />
        </div>
      )}
    </>
  );
}
