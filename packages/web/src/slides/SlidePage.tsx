import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { RenderTask } from 'pdfjs-dist/types/src/display/api';
import { openDeck, pdfjs } from './pdf';

/**
 * One page of a deck, fit into the space it has (letterboxed, never cropped): drawn on a canvas at
 * the screen's pixel density by pdf.js, with its text layer over it (selectable, read by screen
 * readers and by the tests), and on top `overlay`: the annotation overlay for the surface
 * `{kind:'slide', deckId, page}`, given the page's size in page units (PDF points at scale 1, the
 * surface's coordinates), in a box the drawn page's CSS size. Redrawn when the page or the available
 * size changes; a newer draw cancels an older one.
 */
export function SlidePage({ deckId, url, page, overlay }: { deckId: string; url: string; page: number; overlay?: (units: { width: number; height: number }) => ReactNode }) {
  const { t } = useTranslation();
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const text = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [drawn, setDrawn] = useState<{ units: { width: number; height: number }; key: string } | null>(null);
  const [error, setError] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const r = el.getBoundingClientRect();
      setSize((s) => (s && Math.abs(s.w - r.width) < 1 && Math.abs(s.h - r.height) < 1 ? s : { w: r.width, h: r.height }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (!size || size.w < 10 || size.h < 10) return;
    let cancelled = false;
    let task: RenderTask | null = null;
    let textLayer: { cancel(): void } | null = null;
    setError(false);
    void (async () => {
      try {
        const [lib, doc] = await Promise.all([pdfjs(), openDeck(deckId, url)]);
        const p = await doc.getPage(page);
        if (cancelled) return;
        const base = p.getViewport({ scale: 1 });
        const scale = Math.min(size.w / base.width, size.h / base.height);
        const viewport = p.getViewport({ scale });
        const dpr = window.devicePixelRatio || 1;
        const c = canvas.current!;
        c.width = Math.floor(viewport.width * dpr);
        c.height = Math.floor(viewport.height * dpr);
        c.style.width = `${Math.floor(viewport.width)}px`;
        c.style.height = `${Math.floor(viewport.height)}px`;
        task = p.render({ canvas: c, viewport, transform: dpr !== 1 ? [dpr, 0, 0, dpr, 0, 0] : undefined });
        await task.promise;
        if (cancelled) return;
        const layer = text.current!;
        layer.replaceChildren();
        layer.style.setProperty('--total-scale-factor', String(scale));
        layer.style.setProperty('--scale-factor', String(scale));
        layer.style.width = `${Math.floor(viewport.width)}px`;
        layer.style.height = `${Math.floor(viewport.height)}px`;
        const tl = new lib.TextLayer({ textContentSource: p.streamTextContent(), container: layer, viewport });
        textLayer = tl;
        await tl.render();
        if (!cancelled) setDrawn({ units: { width: base.width, height: base.height }, key: `${deckId}:${page}` });
      } catch (err) {
        if (!cancelled && (err as { name?: string }).name !== 'RenderingCancelledException') setError(true);
      }
    })();
    return () => {
      cancelled = true;
      task?.cancel();
      textLayer?.cancel();
    };
  }, [deckId, url, page, size]);

  const ready = drawn?.key === `${deckId}:${page}`;
  return (
    <div className="slide-box" ref={box}>
      <div className="slide-page" data-testid="slide-page" data-rendered={ready ? `${deckId}:${page}` : ''}>
        <canvas ref={canvas} className="slide-canvas" data-testid="slide-canvas" />
        <div ref={text} className="textLayer" data-testid="slide-text" />
        {ready && drawn && overlay && <div className="slide-overlay">{overlay(drawn.units)}</div>}
      </div>
      {error && (
        <p className="slide-error" role="alert" data-testid="slide-error">
          {t('slides.loadFailed')}
        </p>
      )}
    </div>
  );
}
