import { useEffect, useState } from 'react';
import { PhoneNumber, type AudioParticipant, type PhoneLeg } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';

const STATE_LABEL: Record<PhoneLeg['state'], string> = {
  calling: 'calling…',
  ringing: 'ringing…',
  answered: 'on the phone',
  busy: 'busy',
  'no-answer': 'no answer',
  failed: 'failed',
  ended: 'hung up',
};

/** "Call my phone" and "Call a number": the server dials the telephone into this meeting's audio. */
export function DialOut({ client, mayCallMine, mayCallOthers, signedIn }: { client: ConferenceClient; mayCallMine: boolean; mayCallOthers: boolean; signedIn: boolean }) {
  const [form, setForm] = useState<null | 'mine' | 'other'>(null);
  const [number, setNumber] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // What became of the calls this participant placed (ringing, busy, no answer…), said plainly.
  useEffect(() => client.on('notice', ({ code, text }) => code.startsWith('phone.') && setMessage(text)), [client]);

  const dial = async (mine: boolean) => {
    setError(null);
    const typed = number.trim();
    let e164: string | undefined;
    if (typed || !mine || !signedIn) {
      const parsed = PhoneNumber.safeParse(typed);
      if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'not a phone number');
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
              Call my phone
            </button>
          )}
          {mayCallOthers && (
            <button type="button" className="secondary small" onClick={() => setForm('other')} data-testid="call-a-number">
              Call a number
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
            {form === 'mine' ? 'Your phone number' : 'Number to call'}
            <input
              type="tel"
              inputMode="tel"
              autoComplete={form === 'mine' ? 'tel' : 'off'}
              value={number}
              onChange={(e) => setNumber(e.target.value)}
              placeholder={form === 'mine' && signedIn ? 'empty: the number you gave last time' : '+44 20 7946 0000'}
              maxLength={32}
              data-testid="dial-number"
            />
          </label>
          <button type="submit" className="primary small" disabled={busy} data-testid="dial-submit">
            Call
          </button>
          <button type="button" className="secondary small" onClick={() => (setForm(null), setError(null))}>
            Cancel
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
          {STATE_LABEL[leg.state]}
        </span>
        {audio?.muted && <span className="badge">muted</span>}
        {audio?.speaking && <span className="badge speaking">speaking</span>}
      </span>
      <span className="row-actions">
        {leg.state === 'answered' && audio && (mine ? (
          <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.mute', participantId: leg.id, muted: !audio.muted })} data-testid="phone-mute">
            {audio.muted ? 'Unmute' : 'Mute'}
          </button>
        ) : (
          isOrganizer &&
          !audio.muted && (
            <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.mute', participantId: leg.id, muted: true })} data-testid="phone-mute">
              Mute
            </button>
          )
        ))}
        {mayHangUp && (
          <button type="button" className="small danger" onClick={() => client.send({ type: 'audio.hangup', callId: leg.id })} aria-label={`Hang up ${leg.name}`} data-testid="phone-hangup">
            Hang up
          </button>
        )}
      </span>
    </li>
  );
}

/** A telephone in the meeting's participant list: masked number and where the call is. */
export function PhoneRosterRow({ leg }: { leg: PhoneLeg }) {
  return (
    <li className="phone" data-testid="roster-phone" data-phone-id={leg.id} data-state={leg.state} title={leg.detail}>
      <span className="avatar" aria-hidden="true">
        ☎
      </span>
      <span className="who">
        <span className="name">{leg.name}</span>
        {leg.name !== leg.masked && <span className="guest"> {leg.masked}</span>}
        <span className="guest"> · {STATE_LABEL[leg.state]}</span>
      </span>
    </li>
  );
}
