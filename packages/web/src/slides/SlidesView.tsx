import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { annotatePolicy, personHue, sameSurface, slideDeckUrl, type SlideDeck, type Surface } from '@baton/protocol';
import { AnnotationOverlay, type AnnotationTool, type LaserEvent } from '../annotation/AnnotationOverlay';
import { AnnotationToolbar } from '../annotation/AnnotationToolbar';
import { MarkLegend } from '../annotation/MarkLegend';
import type { StageViewProps } from '../meeting/stageViews';
import { SlidePage } from './SlidePage';
import { DeckUpload } from './DeckUpload';

/**
 * The slides on the stage (issue 14 item 3). Everyone follows the deck and page the presenter shows
 * (`snapshot.slides.current`, from the server). Whoever may present turns pages for everyone
 * (`slides.page`, authorized by the Focus) and uploads decks; anyone else may page through the deck
 * on their own, which stays in this page, and goes back with Follow. When the presenter comes to the
 * page one looks at, one follows again. Marks are drawn over the page shown (annotation, surface
 * `{kind:'slide', deckId, page}`): by presenters, and by anyone when the presenter allows viewers.
 */
export function SlidesView({ client, snapshot, leads }: StageViewProps) {
  const { t } = useTranslation();
  const slides = snapshot.slides;
  const current = slides?.current ?? null;
  const [own, setOwn] = useState<{ deckId: string; page: number } | null>(null);
  const shown = own ?? current;
  const deck: SlideDeck | undefined = shown ? slides?.decks.find((d) => d.id === shown.deckId) : undefined;
  // Annotation on the page shown, as on the shared screen (meeting/Stage.tsx); the server decides.
  const [tool, setTool] = useState<AnnotationTool | null>(null);
  const subscribeLaser = useCallback((fn: (e: LaserEvent) => void) => client.on('laser', fn), [client]);
  const self = snapshot.roster.find((p) => p.id === snapshot.selfId);
  const viewersAllowed = snapshot.conference ? annotatePolicy(snapshot.conference.policy) === 'anyone' : false;
  const canAnnotate = leads || viewersAllowed;
  const activeTool = canAnnotate ? tool : null;
  const surface: Surface | null = shown ? { kind: 'slide', deckId: shown.deckId, page: shown.page } : null;
  const pageMarks = surface ? (snapshot.annotations ?? []).filter((m) => sameSurface(m.surface, surface)) : [];
  const hue = personHue(self?.name ?? '');

  useEffect(() => {
    if (own && current && own.deckId === current.deckId && own.page === current.page) setOwn(null);
  }, [own, current]);
  // A presenter always shows what everyone sees: nothing private to keep.
  useEffect(() => {
    if (leads) setOwn(null);
  }, [leads]);

  function go(page: number) {
    if (!deck || page < 1 || page > deck.pages) return;
    if (leads) {
      // The server decides; a refusal shows in the error banner and the page stays.
      client.request({ type: 'slides.page', deckId: deck.id, page }).catch(() => {});
    } else setOwn({ deckId: deck.id, page });
  }

  function onKeyDown(e: React.KeyboardEvent) {
    if (!shown) return;
    if (e.key === 'ArrowRight' || e.key === 'PageDown') go(shown.page + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') go(shown.page - 1);
    else return;
    e.preventDefault();
  }

  if (!shown || !deck) {
    return (
      <section className="stage empty slides-stage" data-testid="slides-empty" aria-label={t('stageSwitch.slidesEmpty')}>
        <div className="stage-message">
          <p className="stage-title">{t('stageSwitch.slidesEmpty')}</p>
          <p className="muted small">{leads ? t('slides.emptyLeadHint') : t('stageSwitch.slidesEmptyHint')}</p>
          {leads && <DeckUpload client={client} />}
          {leads && slides && slides.decks.length > 0 && <DeckPicker decks={slides.decks} onPick={(d) => client.request({ type: 'slides.page', deckId: d.id, page: 1 }).catch(() => {})} />}
        </div>
      </section>
    );
  }

  return (
    <section
      className="stage slides-stage"
      data-testid="slides-view"
      data-deck={deck.id}
      data-page={shown.page}
      data-following={own === null}
      aria-label={t('slides.label', { name: deck.name })}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <AnnotationToolbar
        tool={activeTool}
        onTool={setTool}
        hue={hue}
        canAnnotate={canAnnotate}
        presenter={leads}
        viewersAllowed={viewersAllowed}
        onAllowViewers={(viewers) => client.send({ type: 'annotation.allow', viewers })}
        mineCount={pageMarks.filter((m) => m.author.id === snapshot.selfId).length}
        allCount={pageMarks.length}
        onClearMine={() => surface && client.send({ type: 'annotation.clear', scope: 'mine', surface })}
        onClearAll={() => surface && client.send({ type: 'annotation.clear', scope: 'all', surface })}
      />
      <MarkLegend marks={pageMarks} />
      <SlidePage
        deckId={deck.id}
        url={slideDeckUrl(deck.id)}
        page={shown.page}
        overlay={(units) =>
          surface && (
            <AnnotationOverlay
              surface={surface}
              width={units.width}
              height={units.height}
              marks={pageMarks}
              tool={activeTool}
              hue={hue}
              onMark={(mark) => client.send({ type: 'annotation.add', surface, mark })}
              onLaser={(points) => client.send({ type: 'annotation.laser', surface, points })}
              subscribeLaser={subscribeLaser}
            />
          )
        }
      />
      <div className="slides-bar" role="toolbar" aria-label={t('slides.toolbar')}>
        <button type="button" className="secondary" onClick={() => go(shown.page - 1)} disabled={shown.page <= 1} aria-label={t('slides.prev')} title={t('slides.prev')} data-testid="slides-prev">
          ‹
        </button>
        <span className="slides-page-label" data-testid="slides-page-label">
          {t('slides.pageOf', { page: shown.page, pages: deck.pages })}
        </span>
        <button type="button" className="secondary" onClick={() => go(shown.page + 1)} disabled={shown.page >= deck.pages} aria-label={t('slides.next')} title={t('slides.next')} data-testid="slides-next">
          ›
        </button>
        <span className="slides-deck-name muted small" title={deck.name}>
          {deck.name}
        </span>
        {own !== null && current && (
          <span className="slides-private" role="status">
            <span className="muted small" data-testid="slides-private">
              {current.deckId === own.deckId ? t('slides.presenterOnPage', { page: current.page }) : t('slides.presenterOnOther')}
            </span>
            <button type="button" onClick={() => setOwn(null)} data-testid="slides-follow">
              {t('slides.follow')}
            </button>
          </span>
        )}
        {leads && (
          <span className="slides-lead">
            {slides && slides.decks.length > 1 && <DeckPicker decks={slides.decks} value={deck.id} onPick={(d) => client.request({ type: 'slides.page', deckId: d.id, page: 1 }).catch(() => {})} />}
            <DeckUpload client={client} compact />
            <button type="button" className="secondary" onClick={() => client.request({ type: 'slides.stop' }).catch(() => {})} data-testid="slides-stop">
              {t('slides.stop')}
            </button>
          </span>
        )}
      </div>
    </section>
  );
}

function DeckPicker({ decks, value, onPick }: { decks: readonly SlideDeck[]; value?: string; onPick: (d: SlideDeck) => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLSelectElement>(null);
  return (
    <select
      ref={ref}
      value={value ?? ''}
      aria-label={t('slides.pickDeck')}
      onChange={(e) => {
        const d = decks.find((x) => x.id === e.target.value);
        if (d) onPick(d);
      }}
      data-testid="slides-deck-picker"
    >
      {value === undefined && <option value="">{t('slides.pickDeck')}</option>}
      {decks.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name}
        </option>
      ))}
    </select>
  );
}
