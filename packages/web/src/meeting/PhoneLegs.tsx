import { useEffect, useState } from 'react';
import { PhoneNumber, type AudioParticipant, type PhoneLeg } from '@baton/protocol';
import { useTranslation } from 'react-i18next';
import type { ConferenceClient } from '../conference/ConferenceClient';

/** A call's state in words: phone.state.<state> in i18n/en.ts. */
const stateKey = (state: PhoneLeg['state']) => `phone.state.${state}`;

/** "Call my phone" and "Call a number": the server dials the telephone into this meeting's audio. */
export function DialOut({ client, mayCallMine, mayCallOthers, signedIn }: { client: ConferenceClient; mayCallMine: boolean; mayCallOthers: boolean; signedIn: boolean }) {
  const [form, setForm] = useState<null | 'mine' | 'other'>(null);
  const [number, setNumber] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { t } = useTranslation();

  // What became of the calls this participant placed (ringing, busy, no answer…), said plainly.
  useEffect(() => client.on('notice', ({ code, text }) => code.startsWith('phone.') && setMessage(text)), [client]);

  const dial = async (mine: boolean) => {
    setError(null);
    const typed = number.trim();
    let e164: string | undefined;
    if (typed || !mine || !signedIn) {
      const parsed = PhoneNumber.safeParse(typed);
      if (!parsed.success) return setError(typed.length > 32 ? t('phone.tooLong') : t('phone.invalid'));
      e164 = parsed.data;
    }
    setBusy(true);
    try {
      await client.request({ type: 'audio.dial', mine, ...(e164 ? { number: e164 } : {}) });
      setForm(null);
      setNumber('');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dial-out" data-testid="dial-out">
      {form === null ? (
        <div className="audio-actions">
          {mayCallMine && (
            <button type="button" className="secondary small" onClick={() => setForm('mine')} data-testid="call-my-phone">
              {t('phone.callMine')}
            </button>
          )}
          {mayCallOthers && (
            <button type="button" className="secondary small" onClick={() => setForm('other')} data-testid="call-a-number">
              {t('phone.callNumber')}
            </button>
          )}
        </div>
      ) : (
        <form
          className="dial-form"
          onSubmit={(e) => {
            e.preventDefault();
            void dial(form === 'mine');
          }}
        >
          <label className="small">
            {form === 'mine' ? t('phone.yourNumber') : t('phone.numberToCall')}
            <input
              type="tel"
              inputMode="tel"
              autoComplete={form === 'mine' ? 'tel' : 'off'}
              value={number}
              onChange={(e) => setNumber(e.target.value)}
              placeholder={form === 'mine' && signedIn ? t('phone.lastNumber') : t('phone.example')}
              maxLength={32}
              data-testid="dial-number"
            />
          </label>
          <button type="submit" className="primary small" disabled={busy} data-testid="dial-submit">
            {t('phone.call')}
          </button>
          <button type="button" className="secondary small" onClick={() => (setForm(null), setError(null))}>
            {t('common.cancel')}
          </button>
        </form>
      )}
      {error && (
        <p className="small error" role="alert" data-testid="dial-error">
          {error}
        </p>
      )}
      {message && (
        <p className="small" role="status" data-testid="phone-message">
          {message}
        </p>
      )}
    </div>
  );
}

/** One telephone in the audio roster: masked number, call state, mute and hang-up for who may. */
export function PhoneLegRow({
  client,
  leg,
  audio,
  selfId,
  isOrganizer,
}: {
  client: ConferenceClient;
  leg: PhoneLeg;
  audio: AudioParticipant | undefined;
  selfId: string | null;
  isOrganizer: boolean;
}) {
  const live = leg.state === 'calling' || leg.state === 'ringing' || leg.state === 'answered';
  const mine = leg.owner === selfId || (leg.owner === null && leg.dialer === selfId);
  const mayHangUp = live && (mine || leg.dialer === selfId || isOrganizer);
  const { t } = useTranslation();
  return (
    <li
      className={audio?.speaking ? 'speaking phone' : 'phone'}
      data-testid="phone-leg"
      data-phone-id={leg.id}
      data-state={leg.state}
      data-muted={audio?.muted ?? false}
      data-speaking={audio?.speaking ?? false}
      title={leg.detail}
    >
      <span className="speaking-dot" aria-hidden="true" />
      <span className="name">
        <span aria-hidden="true">☎ </span>
        {leg.name}
      </span>
      {leg.name !== leg.masked && <span className="muted small"> {leg.masked}</span>}
      <span className="badges">
        <span className={`badge phone-${leg.state}`} data-testid="phone-state">
          {t(stateKey(leg.state))}
        </span>
        {audio?.muted && <span className="badge">{t('audio.badgeMuted')}</span>}
        {audio?.speaking && <span className="badge speaking">{t('audio.badgeSpeaking')}</span>}
      </span>
      <span className="row-actions">
        {leg.state === 'answered' && audio && (mine ? (
          <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.mute', participantId: leg.id, muted: !audio.muted })} data-testid="phone-mute">
            {audio.muted ? t('audio.unmute') : t('audio.mute')}
          </button>
        ) : (
          isOrganizer &&
          !audio.muted && (
            <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.mute', participantId: leg.id, muted: true })} data-testid="phone-mute">
              {t('audio.mute')}
            </button>
          )
        ))}
        {mayHangUp && (
          <button type="button" className="small danger" onClick={() => client.send({ type: 'audio.hangup', callId: leg.id })} aria-label={t('phone.hangUpWho', { name: leg.name })} data-testid="phone-hangup">
            {t('phone.hangUp')}
          </button>
        )}
      </span>
    </li>
  );
}

/** A telephone in the meeting's participant list: masked number and where the call is. */
export function PhoneRosterRow({ leg }: { leg: PhoneLeg }) {
  const { t } = useTranslation();
  return (
    <li className="phone" data-testid="roster-phone" data-phone-id={leg.id} data-state={leg.state} title={leg.detail}>
      <span className="avatar" aria-hidden="true">
        ☎
      </span>
      <span className="who">
        <span className="name">{leg.name}</span>
        {leg.name !== leg.masked && <span className="guest"> {leg.masked}</span>}
        <span className="guest"> · {t(stateKey(leg.state))}</span>
      </span>
    </li>
  );
}
