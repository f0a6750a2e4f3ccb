import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { useNotifier } from '../notify/NotifierContext';

export type SideTab = 'chat' | 'polls' | 'qa';
const TABS: SideTab[] = ['chat', 'polls', 'qa'];

/**
 * The side panel's tabs: Chat, Polls, Q&A (WAI-ARIA tabs: arrow keys move between them). A poll
 * started or a question asked while its tab is not shown puts a badge on the tab and a toast up.
 */
export function SidePanel({ client, children }: { client: ConferenceClient; children: Record<SideTab, ReactNode> }) {
  const { t } = useTranslation();
  const [tab, setTab] = useState<SideTab>('chat');
  const [badge, setBadge] = useState<Record<SideTab, number>>({ chat: 0, polls: 0, qa: 0 });
  const current = useRef(tab);
  current.current = tab;
  const notifier = useNotifier();
  const refs = useRef<Record<SideTab, HTMLButtonElement | null>>({ chat: null, polls: null, qa: null });

  useEffect(() => {
    const offPoll = client.on('pollStarted', (p) => {
      notifier?.notify('info', t('data.pollStarted', { name: p.createdBy.name, question: p.question }));
      if (current.current !== 'polls') setBadge((b) => ({ ...b, polls: b.polls + 1 }));
    });
    const offQuestion = client.on('questionAsked', (q) => {
      if (q.mine) return;
      if (current.current !== 'qa') setBadge((b) => ({ ...b, qa: b.qa + 1 }));
    });
    return () => {
      offPoll();
      offQuestion();
    };
  }, [client, notifier, t]);

  function select(next: SideTab, focus = false) {
    setTab(next);
    setBadge((b) => ({ ...b, [next]: 0 }));
    if (focus) refs.current[next]?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    const i = TABS.indexOf(tab);
    if (e.key === 'ArrowRight') select(TABS[(i + 1) % TABS.length]!, true);
    else if (e.key === 'ArrowLeft') select(TABS[(i + TABS.length - 1) % TABS.length]!, true);
    else return;
    e.preventDefault();
  }

  return (
    <>
      <div className="side-tabs" role="tablist" aria-label={t('data.tabs')} onKeyDown={onKeyDown} data-testid="side-tabs">
        {TABS.map((id) => (
          <button
            key={id}
            ref={(el) => void (refs.current[id] = el)}
            type="button"
            role="tab"
            id={`side-tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`side-panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className={tab === id ? 'side-tab selected' : 'side-tab'}
            onClick={() => select(id)}
            data-testid={`tab-${id}`}
          >
            {t(`data.tab.${id}`)}
            {badge[id] > 0 && (
              <span className="unread-badge" data-testid={`tab-${id}-badge`} aria-label={t('data.new', { count: badge[id] })}>
                {badge[id]}
              </span>
            )}
          </button>
        ))}
      </div>
      {TABS.map((id) => (
        <div key={id} role="tabpanel" id={`side-panel-${id}`} aria-labelledby={`side-tab-${id}`} hidden={tab !== id} className="side-tabpanel">
          {tab === id && children[id]}
        </div>
      ))}
    </>
  );
}
