/**
 * One whiteboard element as SVG. Text is SVG text (React escapes it): nothing a participant types
 * is ever parsed as markup. The same drawing is what the page shows and what "Export SVG/PNG" saves.
 */
import type { ReactElement } from 'react';
import type { WbElement } from '@baton/protocol';

const FONT = 'sans-serif';

/** Lines of a sticky note's text, wrapped at about the note's width (SVG text does not wrap by itself). */
export function wrap(text: string, width: number, fontSize: number): string[] {
  const max = Math.max(4, Math.floor(width / (fontSize * 0.56)));
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (!line) line = word;
      else if ((line + ' ' + word).length <= max) line += ' ' + word;
      else {
        out.push(line);
        line = word;
      }
      while (line.length > max) {
        out.push(line.slice(0, max));
        line = line.slice(max);
      }
    }
    out.push(line);
  }
  return out;
}

/** The element's bounding box in board coordinates. */
export function bounds(e: WbElement): { x: number; y: number; w: number; h: number } {
  switch (e.type) {
    case 'stroke': {
      let x0 = 0, y0 = 0, x1 = 0, y1 = 0;
      for (let i = 0; i + 1 < e.points.length; i += 2) {
        x0 = Math.min(x0, e.points[i]!);
        x1 = Math.max(x1, e.points[i]!);
        y0 = Math.min(y0, e.points[i + 1]!);
        y1 = Math.max(y1, e.points[i + 1]!);
      }
      return { x: e.x + x0, y: e.y + y0, w: x1 - x0, h: y1 - y0 };
    }
    case 'text': {
      const lines = e.text.split('\n');
      return { x: e.x, y: e.y, w: Math.max(...lines.map((l) => l.length)) * e.fontSize * 0.56, h: lines.length * e.fontSize * 1.2 };
    }
    default:
      return { x: Math.min(e.x, e.x + e.w), y: Math.min(e.y, e.y + e.h), w: Math.abs(e.w), h: Math.abs(e.h) };
  }
}

function arrowHead(e: WbElement): string {
  const x2 = e.x + e.w, y2 = e.y + e.h;
  const a = Math.atan2(e.h, e.w);
  const len = 10 + e.width * 3;
  const p = (da: number) => `${x2 - len * Math.cos(a + da)},${y2 - len * Math.sin(a + da)}`;
  return `${x2},${y2} ${p(0.45)} ${p(-0.45)}`;
}

function lines(texts: string[], x: number, y: number, fontSize: number, fill: string): ReactElement {
  return (
    <text x={x} y={y} fontSize={fontSize} fontFamily={FONT} fill={fill} dominantBaseline="hanging">
      {texts.map((l, i) => (
        <tspan key={i} x={x} dy={i === 0 ? 0 : fontSize * 1.2}>
          {l}
        </tspan>
      ))}
    </text>
  );
}

/** The element's SVG; `hit` adds a wide invisible outline for picking thin lines (left out of exports). */
export function ElementSvg({ e, hit }: { e: WbElement; hit?: boolean }): ReactElement {
  const stroke = { stroke: e.color, strokeWidth: e.width, strokeLinecap: 'round' as const, strokeLinejoin: 'round' as const };
  let shape: ReactElement;
  switch (e.type) {
    case 'stroke': {
      const pts = e.points.length >= 4 ? e.points.join(' ') : `0 0 ${e.points[0] ?? 0} ${e.points[1] ?? 0}`;
      shape = <polyline points={pts} transform={`translate(${e.x} ${e.y})`} fill="none" {...stroke} />;
      break;
    }
    case 'rect': {
      const b = bounds(e);
      shape = <rect x={b.x} y={b.y} width={b.w} height={b.h} fill={e.fill} {...stroke} />;
      break;
    }
    case 'ellipse':
      shape = <ellipse cx={e.x + e.w / 2} cy={e.y + e.h / 2} rx={Math.abs(e.w) / 2} ry={Math.abs(e.h) / 2} fill={e.fill} {...stroke} />;
      break;
    case 'line':
      shape = <line x1={e.x} y1={e.y} x2={e.x + e.w} y2={e.y + e.h} {...stroke} />;
      break;
    case 'arrow':
      shape = (
        <g>
          <line x1={e.x} y1={e.y} x2={e.x + e.w} y2={e.y + e.h} {...stroke} />
          <polygon points={arrowHead(e)} fill={e.color} stroke={e.color} strokeWidth={1} strokeLinejoin="round" />
        </g>
      );
      break;
    case 'text':
      shape = lines(e.text.split('\n'), e.x, e.y, e.fontSize, e.color);
      break;
    case 'sticky': {
      const b = bounds(e);
      shape = (
        <g>
          <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={6} fill={e.fill === 'none' ? '#fff3a3' : e.fill} stroke="#c9b458" strokeWidth={1} />
          {lines(wrap(e.text, b.w - 24, e.fontSize), b.x + 12, b.y + 12, e.fontSize, e.color)}
        </g>
      );
      break;
    }
  }
  const b = bounds(e);
  return (
    <g data-id={e.id} data-type={e.type}>
      {shape}
      {hit && <rect className="wb-hit" x={b.x - 8} y={b.y - 8} width={b.w + 16} height={b.h + 16} fill="transparent" stroke="none" />}
    </g>
  );
}
