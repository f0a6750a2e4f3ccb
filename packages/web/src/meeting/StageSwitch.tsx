import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { STAGE_VIEWS, type StageView } from '@baton/protocol';
import { STAGE_VIEW_TABLE, type StageViewProps } from './stageViews';

/**
 * The stage with its tab row (Screen | Whiteboard | Slides, from STAGE_VIEW_TABLE). Whoever may
 * present switches everyone's stage with a tab (`stage.set`, authorized by the Focus). Everyone else
 * follows the presenter's view, and may look at another tab on their own: that stays in this page,
 * and "Follow presenter" goes back. When the presenter comes to the view one looks at, one follows again.
 */
export function StageSwitch(props: StageViewProps) {
  const { client, snapshot, leads } = props;
  const { t } = useTranslation();
  const shared: StageView = snapshot.stage?.view ?? 'screen';
  const [own, setOwn] = useState<StageView | null>(null);
  const refs = useRef<Partial<Record<StageView, HTMLButtonElement | null>>>({});
  const shown = own ?? shared;

  useEffect(() => {
    if (own === shared) setOwn(null);
  }, [own, shared]);

  function choose(view: StageView, focus = false) {
    if (focus) refs.current[view]?.focus();
    if (leads) {
      setOwn(null);
      // The server decides; a refusal shows in the error banner and the stage stays as it was.
      if (view !== shared) client.request({ type: 'stage.set', view }).catch(() => {});
      return;
    }
    setOwn(view === shared ? null : view);
  }

  function onKeyDown(e: KeyboardEvent) {
    const i = STAGE_VIEWS.indexOf(shown);
    if (e.key === 'ArrowRight') choose(STAGE_VIEWS[(i + 1) % STAGE_VIEWS.length]!, true);
    else if (e.key === 'ArrowLeft') choose(STAGE_VIEWS[(i + STAGE_VIEWS.length - 1) % STAGE_VIEWS.length]!, true);
    else return;
    e.preventDefault();
  }

  const View = STAGE_VIEW_TABLE[shown].Component;
  return (
    <div className="stage-area" data-testid="stage-area" data-view={shown} data-shared-view={shared} data-following={own === null}>
      <div className="stage-tabs-row">
        <div className="stage-tabs" role="tablist" aria-label={t('stageSwitch.tabs')} onKeyDown={onKeyDown} data-testid="stage-tabs">
          {STAGE_VIEWS.map((id) => (
            <button
              key={id}
              ref={(el) => void (refs.current[id] = el)}
              type="button"
              role="tab"
              id={`stage-tab-${id}`}
              aria-selected={shown === id}
              aria-controls="stage-view"
              tabIndex={shown === id ? 0 : -1}
              className={shown === id ? 'stage-tab selected' : 'stage-tab'}
              onClick={() => choose(id)}
              data-testid={`stage-tab-${id}`}
              data-live={shared === id}
              title={shared === id ? t('stageSwitch.live') : leads ? t('stageSwitch.showAll') : t('stageSwitch.lookPrivately')}
            >
              <span aria-hidden="true">{STAGE_VIEW_TABLE[id].icon}</span> {t(`stageSwitch.view.${id}`)}
              {shared === id && <span className="live-dot" aria-label={t('stageSwitch.live')} />}
            </button>
          ))}
        </div>
        {own !== null && (
          <span className="stage-private" role="status">
            <span className="muted small" data-testid="stage-private">
              {t('stageSwitch.presenterShows', { view: t(`stageSwitch.view.${shared}`) })}
            </span>
            <button type="button" className="secondary" onClick={() => setOwn(null)} data-testid="stage-follow">
              {t('stageSwitch.follow')}
            </button>
          </span>
        )}
      </div>
      <div className="stage-view" id="stage-view" role="tabpanel" aria-labelledby={`stage-tab-${shown}`}>
        <View {...props} />
      </div>
    </div>
  );
}
