import { useEffect, useReducer, useRef, useState, type KeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { useTranslation } from 'react-i18next';
import * as Y from 'yjs';
import { BOARD_HEIGHT, BOARD_WIDTH, MAX_WB_POINTS, MAX_WB_TEXT, type WbElement, type WbElementType } from '@baton/protocol';
import type { BoardSync } from './BoardSync';
import { ElementSvg, bounds } from './render';
import { downloadPng, downloadSvg } from './exportBoard';

type Tool = 'select' | 'pen' | 'rect' | 'ellipse' | 'line' | 'arrow' | 'text' | 'sticky';
const TOOLS: Tool[] = ['select', 'pen', 'rect', 'ellipse', 'line', 'arrow', 'text', 'sticky'];
const TOOL_ICONS: Record<Tool, string> = { select: '⬚', pen: '✎', rect: '▭', ellipse: '◯', line: '╱', arrow: '➚', text: 'T', sticky: '▤' };
export const COLOURS = ['#1b1f27', '#d73a49', '#1f6feb', '#2da44e', '#bf8700', '#8250df'];

const newId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Base element fields, as the renderer defaults them. */
function draftOf(type: WbElementType, x: number, y: number, color: string): WbElement {
  return { id: 'draft', type, x, y, w: 0, h: 0, points: [0, 0], color, fill: 'none', width: 3, text: '', fontSize: type === 'sticky' ? 22 : 28, z: 0 };
}

/**
 * The shared whiteboard on the stage: an SVG of the board (1920x1080, scaled to fit) and its tools.
 * Everyone who may draw (policy `whiteboard`; the server checks every update) draws at once; each
 * finished stroke or shape is one edit, sent to the others by BoardSync. Undo/redo take back only
 * this user's own edits. Without permission the board is shown read-only and says why.
 */
export function Whiteboard({ board, mayDraw }: { board: BoardSync; mayDraw: boolean }) {
  const { t } = useTranslation();
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const [tool, setTool] = useState<Tool>('pen');
  const [colour, setColour] = useState(COLOURS[2]!);
  const [draft, setDraft] = useState<WbElement | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [drag, setDrag] = useState<{ id: string; x0: number; y0: number; dx: number; dy: number } | null>(null);
  const [placing, setPlacing] = useState<{ kind: 'text' | 'sticky'; x: number; y: number } | null>(null);
  const [text, setText] = useState('');
  const [refusal, setRefusal] = useState<string | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const textInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const offChange = board.on('change', redraw);
    const offRefused = board.on('refused', setRefusal);
    return () => {
      offChange();
      offRefused();
    };
  }, [board]);
  useEffect(() => {
    if (placing) textInput.current?.focus();
  }, [placing]);

  const elements = board.elements();
  const topZ = elements.length ? elements[elements.length - 1]!.z : 0;

  function toBoard(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const el = svg.current!;
    const m = el.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: Math.round(p.x), y: Math.round(p.y) };
  }

  function add(element: WbElement) {
    const id = newId();
    const { id: _draftId, ...fields } = element;
    board.edit((els) => {
      const m = new Y.Map<unknown>();
      els.set(id, m);
      const base = { ...fields, z: topZ + 1 };
      for (const [k, v] of Object.entries(base)) {
        // Only what the element uses: a stroke needs no size, a shape no points.
        if (k === 'points' && fields.type !== 'stroke') continue;
        if ((k === 'text' || k === 'fontSize') && fields.type !== 'text' && fields.type !== 'sticky') continue;
        m.set(k, v);
      }
    });
    board.stopCapturing();
  }

  function onPointerDown(e: ReactPointerEvent<SVGSVGElement>) {
    if (!mayDraw || e.button !== 0) return;
    const p = toBoard(e);
    svg.current?.setPointerCapture?.(e.pointerId);
    if (tool === 'select') {
      const id = (e.target as Element).closest('[data-id]')?.getAttribute('data-id') ?? null;
      setSelected(id);
      if (id) setDrag({ id, x0: p.x, y0: p.y, dx: 0, dy: 0 });
      return;
    }
    if (tool === 'text' || tool === 'sticky') {
      setPlacing({ kind: tool, x: p.x, y: p.y });
      setText('');
      return;
    }
    setDraft(draftOf(tool === 'pen' ? 'stroke' : tool, p.x, p.y, colour));
  }

  function onPointerMove(e: ReactPointerEvent<SVGSVGElement>) {
    if (drag) {
      const p = toBoard(e);
      setDrag({ ...drag, dx: p.x - drag.x0, dy: p.y - drag.y0 });
      return;
    }
    if (!draft) return;
    const p = toBoard(e);
    if (draft.type === 'stroke') {
      const pts = draft.points;
      const lx = pts[pts.length - 2]!, ly = pts[pts.length - 1]!;
      const rx = p.x - draft.x, ry = p.y - draft.y;
      // Points closer than 2 px add nothing visible; a stroke keeps at most MAX_WB_POINTS numbers.
      if (Math.hypot(rx - lx, ry - ly) < 2 || pts.length >= MAX_WB_POINTS) return;
      setDraft({ ...draft, points: [...pts, rx, ry] });
    } else setDraft({ ...draft, w: p.x - draft.x, h: p.y - draft.y });
  }

  function onPointerUp() {
    if (drag) {
      const { id, dx, dy } = drag;
      setDrag(null);
      if (dx !== 0 || dy !== 0) {
        board.edit((els) => {
          const m = els.get(id);
          if (!m) return;
          m.set('x', Math.round(Number(m.get('x') ?? 0) + dx));
          m.set('y', Math.round(Number(m.get('y') ?? 0) + dy));
        });
        board.stopCapturing();
      }
      return;
    }
    if (!draft) return;
    const d = draft;
    setDraft(null);
    if (d.type === 'stroke') add({ ...d });
    else if (Math.abs(d.w) + Math.abs(d.h) >= 4) {
      // Boxes are kept with a positive size; lines and arrows keep their direction.
      const box = d.type === 'rect' || d.type === 'ellipse' ? { x: Math.min(d.x, d.x + d.w), y: Math.min(d.y, d.y + d.h), w: Math.abs(d.w), h: Math.abs(d.h) } : {};
      add({ ...d, ...box });
    }
  }

  function placeText() {
    if (!placing) return;
    const value = text.trim();
    if (value) {
      if (placing.kind === 'sticky') add({ ...draftOf('sticky', placing.x, placing.y, '#1b1f27'), w: 240, h: 170, fill: '#fff3a3', text: value });
      else add({ ...draftOf('text', placing.x, placing.y, colour), text: value });
    }
    setPlacing(null);
    setText('');
  }

  function deleteSelected() {
    if (!selected) return;
    const id = selected;
    setSelected(null);
    board.edit((els) => els.delete(id));
    board.stopCapturing();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (!mayDraw) return;
    const mod = e.ctrlKey || e.metaKey;
    if ((e.key === 'Delete' || e.key === 'Backspace') && selected) deleteSelected();
    else if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) board.undo();
    else if (mod && (e.key.toLowerCase() === 'y' || (e.key.toLowerCase() === 'z' && e.shiftKey))) board.redo();
    else return;
    e.preventDefault();
  }

  const sel = selected ? elements.find((x) => x.id === selected) : undefined;
  const selBox = sel ? bounds(sel) : null;
  return (
    <section className="stage whiteboard" data-testid="whiteboard" data-elements={elements.length} aria-label={t('whiteboard.label')}>
      <div className="wb-toolbar" role="toolbar" aria-label={t('whiteboard.tools')}>
        {mayDraw ? (
          <>
            <span className="segmented" role="group" aria-label={t('whiteboard.tools')}>
              {TOOLS.map((id) => (
                <button key={id} type="button" aria-pressed={tool === id} data-testid={`wb-tool-${id}`} title={t(`whiteboard.tool.${id}`)} aria-label={t(`whiteboard.tool.${id}`)} onClick={() => setTool(id)}>
                  <span aria-hidden="true">{TOOL_ICONS[id]}</span>
                </button>
              ))}
            </span>
            <span className="wb-colours" role="group" aria-label={t('whiteboard.colour')}>
              {COLOURS.map((c, i) => (
                <button
                  key={c}
                  type="button"
                  className={`wb-colour wb-colour-${i}`}
                  aria-pressed={colour === c}
                  aria-label={t('whiteboard.colourN', { n: i + 1 })}
                  data-testid={`wb-colour-${i}`}
                  onClick={() => setColour(c)}
                />
              ))}
            </span>
            <button type="button" className="secondary" data-testid="wb-undo" disabled={!board.canUndo} onClick={() => board.undo()} title={t('whiteboard.undoTitle')}>
              {t('whiteboard.undo')}
            </button>
            <button type="button" className="secondary" data-testid="wb-redo" disabled={!board.canRedo} onClick={() => board.redo()}>
              {t('whiteboard.redo')}
            </button>
            <button type="button" className="secondary" data-testid="wb-delete" disabled={!selected} onClick={deleteSelected}>
              {t('whiteboard.delete')}
            </button>
          </>
        ) : (
          <span className="muted small" data-testid="wb-readonly">
            {t('whiteboard.readOnly')}
          </span>
        )}
        <span className="wb-export">
          <button type="button" className="secondary" data-testid="wb-export-png" onClick={() => svg.current && void downloadPng(svg.current)}>
            {t('whiteboard.exportPng')}
          </button>
          <button type="button" className="secondary" data-testid="wb-export-svg" onClick={() => svg.current && downloadSvg(svg.current)}>
            {t('whiteboard.exportSvg')}
          </button>
        </span>
      </div>
      {placing && (
        <form
          className="wb-text-form"
          onSubmit={(e) => {
            e.preventDefault();
            placeText();
          }}
        >
          <input
            ref={textInput}
            value={text}
            maxLength={MAX_WB_TEXT}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setPlacing(null)}
            placeholder={placing.kind === 'sticky' ? t('whiteboard.stickyPlaceholder') : t('whiteboard.textPlaceholder')}
            aria-label={placing.kind === 'sticky' ? t('whiteboard.stickyPlaceholder') : t('whiteboard.textPlaceholder')}
            data-testid="wb-text-input"
          />
          <button type="submit" data-testid="wb-text-add">
            {t('whiteboard.place')}
          </button>
          <button type="button" className="secondary" onClick={() => setPlacing(null)}>
            {t('common.cancel')}
          </button>
        </form>
      )}
      {refusal && (
        <p className="wb-refusal" role="alert" data-testid="wb-refused">
          {t('whiteboard.refused', { reason: refusal })}
          <button type="button" className="icon" aria-label={t('common.dismiss')} onClick={() => setRefusal(null)}>
            ×
          </button>
        </p>
      )}
      <div className="wb-canvas">
        <svg
          ref={svg}
          className={`wb-svg tool-${mayDraw ? tool : 'none'}`}
          data-testid="wb-svg"
          viewBox={`0 0 ${BOARD_WIDTH} ${BOARD_HEIGHT}`}
          preserveAspectRatio="xMidYMid meet"
          tabIndex={0}
          role="img"
          aria-label={t('whiteboard.canvas', { count: elements.length })}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onKeyDown={onKeyDown}
        >
          <rect className="wb-paper" x={0} y={0} width={BOARD_WIDTH} height={BOARD_HEIGHT} fill="#ffffff" />
          {elements.map((e) =>
            drag && drag.id === e.id ? <ElementSvg key={e.id} e={{ ...e, x: e.x + drag.dx, y: e.y + drag.dy }} hit={tool === 'select'} /> : <ElementSvg key={e.id} e={e} hit={tool === 'select'} />,
          )}
          {draft && (
            <g className="wb-ui">
              <ElementSvg e={draft} />
            </g>
          )}
          {selBox && (
            <rect
              className="wb-ui"
              x={selBox.x - 6 + (drag?.dx ?? 0)}
              y={selBox.y - 6 + (drag?.dy ?? 0)}
              width={selBox.w + 12}
              height={selBox.h + 12}
              fill="none"
              stroke="#4f46e5"
              strokeDasharray="8 6"
              strokeWidth={2}
              data-testid="wb-selection"
            />
          )}
        </svg>
      </div>
    </section>
  );
}
