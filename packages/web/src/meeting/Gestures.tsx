import { useEffect, useState } from 'react';
import { REACTIONS, personOf, type Participant, type RaisedHand, type ReactionEmoji } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
import type { ConferenceClient } from '../conference/ConferenceClient';

/** Each reaction's name for screen readers and tooltips: gestures.reaction.<name> in i18n/en.ts. */
export const REACTION_KEY: Record<ReactionEmoji, string> = { '👍': 'thumbsUp', '👏': 'applause', '😂': 'laughing', '🎉': 'celebrate', '❤️': 'love' };

/** Raise or lower your hand, and send a reaction. The server keeps the queue and the limits. */
export function Gestures({ client, hands, self, enabled }: { client: ConferenceClient; hands: readonly RaisedHand[]; self: Participant | null; enabled: boolean }) {
  const raised = !!self && hands.some((h) => h.person === personOf(self));
  const { t } = useTranslation();
  return (
    <div className="panel gestures" role="group" aria-label={t('gestures.label')} data-testid="gestures">
      <button
        type="button"
        className={raised ? 'primary' : 'secondary'}
        aria-pressed={raised}
        disabled={!enabled}
        onClick={() => (raised ? client.lowerHand() : client.raiseHand())}
        data-testid="hand-toggle"
      >
        <span aria-hidden="true">✋</span> {raised ? t('gestures.lower') : t('gestures.raise')}
      </button>
      <span className="reaction-buttons">
        {REACTIONS.map((e) => (
          <button key={e} type="button" className="secondary reaction-button" disabled={!enabled} aria-label={t('gestures.react', { what: t(`gestures.reaction.${REACTION_KEY[e]}`) })} title={t(`gestures.reaction.${REACTION_KEY[e]}`)} onClick={() => client.react(e)} data-testid="react" data-emoji={e}>
            {e}
          </button>
        ))}
      </span>
    </div>
  );
}

/** Reactions as they come, over the stage for a few seconds each, announced politely. */
export function Reactions({ client }: { client: ConferenceClient }) {
  const [items, setItems] = useState<{ key: number; emoji: ReactionEmoji; name: string }[]>([]);
  const { t } = useTranslation();
  useEffect(() => {
    let n = 0;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const off = client.on('reaction', ({ emoji, name }) => {
      const key = ++n;
      setItems((list) => [...list.slice(-11), { key, emoji, name }]);
      const timer = setTimeout(() => {
        timers.delete(timer);
        setItems((list) => list.filter((x) => x.key !== key));
      }, 4000);
      timers.add(timer);
    });
    return () => {
      off();
      for (const timer of timers) clearTimeout(timer);
    };
  }, [client]);
  return (
    <div className="reactions" aria-live="polite" data-testid="reactions">
      {items.map((r) => (
        <div key={r.key} className="reaction" data-testid="reaction" data-emoji={r.emoji}>
          <span className="emoji" aria-hidden="true">
            {r.emoji}
          </span>{' '}
          <span className="who">{r.name}</span>
          <span className="sr-only"> {t('gestures.reacted', { what: t(`gestures.reaction.${REACTION_KEY[r.emoji]}`) })}</span>
        </div>
      ))}
    </div>
  );
}
