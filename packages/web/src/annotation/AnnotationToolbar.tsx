/**
 * The annotation toolbar on the stage: the tool in hand (or none, which gives the pointer back to the
 * shared screen), this person's colour, clear mine / clear all, and the presenter's "let viewers
 * annotate". The buttons only ask: the Focus authorizes every command.
 */
import { useTranslation } from 'react-i18next';
import { markColor } from './drawMarks';
import type { AnnotationTool } from './AnnotationOverlay';

const TOOLS: { tool: AnnotationTool; icon: string }[] = [
  { tool: 'pen', icon: '✎' },
  { tool: 'highlighter', icon: '▬' },
  { tool: 'arrow', icon: '➚' },
  { tool: 'rectangle', icon: '▭' },
  { tool: 'text', icon: 'T' },
  { tool: 'laser', icon: '◉' },
];

export interface AnnotationToolbarProps {
  tool: AnnotationTool | null;
  onTool: (tool: AnnotationTool | null) => void;
  /** This person's colour (hue): their marks are drawn in it. */
  hue: number;
  /** May draw (the presenter, or everyone once allowed). */
  canAnnotate: boolean;
  /** Presents: may clear everyone's marks and let viewers annotate. */
  presenter: boolean;
  viewersAllowed: boolean;
  onAllowViewers: (allow: boolean) => void;
  mineCount: number;
  allCount: number;
  onClearMine: () => void;
  onClearAll: () => void;
}

export function AnnotationToolbar(p: AnnotationToolbarProps) {
  const { t } = useTranslation();
  if (!p.canAnnotate && p.mineCount === 0) return null;
  return (
    <div className="annotation-bar" role="toolbar" aria-label={t('annotate.toolbar')} data-testid="annotation-toolbar">
      {p.canAnnotate && (
        <span className="segmented" role="group" aria-label={t('annotate.tools')}>
          {TOOLS.map(({ tool, icon }) => (
            <button
              key={tool}
              type="button"
              aria-pressed={p.tool === tool}
              data-testid={`annotate-${tool}`}
              title={t(`annotate.tool.${tool}`)}
              aria-label={t(`annotate.tool.${tool}`)}
              onClick={() => p.onTool(p.tool === tool ? null : tool)}
            >
              <span aria-hidden="true">{icon}</span>
            </button>
          ))}
        </span>
      )}
      {p.canAnnotate && p.tool && (
        <button type="button" className="secondary" data-testid="annotate-off" onClick={() => p.onTool(null)} title={t('annotate.offTitle')}>
          {t('annotate.off')}
        </button>
      )}
      {p.canAnnotate && (
        <span className="annotation-colour" data-testid="annotate-colour" data-hue={p.hue} title={t('annotate.colourTitle')}>
          <span className="annotation-swatch" aria-hidden="true" style={{ background: markColor(p.hue) }} />
          <span className="muted small">{t('annotate.colour')}</span>
        </span>
      )}
      <span className="annotation-actions">
        <button type="button" className="secondary" data-testid="annotate-clear-mine" disabled={p.mineCount === 0} onClick={p.onClearMine}>
          {t('annotate.clearMine')}
        </button>
        {p.presenter && (
          <button type="button" className="secondary" data-testid="annotate-clear-all" disabled={p.allCount === 0} onClick={p.onClearAll}>
            {t('annotate.clearAll')}
          </button>
        )}
        {p.presenter && (
          <label className="annotation-allow small">
            <input type="checkbox" data-testid="annotate-allow-viewers" checked={p.viewersAllowed} onChange={(e) => p.onAllowViewers(e.currentTarget.checked)} />
            {t('annotate.allowViewers')}
          </label>
        )}
      </span>
    </div>
  );
}
