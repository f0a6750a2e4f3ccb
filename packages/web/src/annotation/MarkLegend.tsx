/** Whose marks are on the surface: each author's colour and name (names are React text, never HTML). */
import { useTranslation } from 'react-i18next';
import type { Mark } from '@baton/protocol';
import { markColor } from './drawMarks';

export function MarkLegend({ marks }: { marks: readonly Mark[] }) {
  const { t } = useTranslation();
  const authors = new Map<string, { name: string; hue: number }>();
  for (const m of marks) authors.set(m.author.id, { name: m.author.name, hue: m.author.hue });
  if (authors.size === 0) return null;
  return (
    <div className="mark-legend small" data-testid="mark-legend" aria-label={t('annotate.marksBy', { names: [...authors.values()].map((a) => a.name).join(', ') })}>
      {[...authors].map(([id, a]) => (
        <span key={id} className="mark-legend-entry" data-testid="mark-legend-entry" data-author-id={id}>
          <span className="annotation-swatch" aria-hidden="true" style={{ background: markColor(a.hue) }} />
          {a.name}
        </span>
      ))}
    </div>
  );
}
