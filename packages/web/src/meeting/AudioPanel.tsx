import { useEffect, useState, useSyncExternalStore } from 'react';
import { audioPolicy, dialOutPolicy, type MeetingPolicy, type Participant } from '@baton/protocol';
import type { ConferenceClient, ConferenceSnapshot } from '../conference/ConferenceClient';
import { useTranslation } from 'react-i18next';
import { AudioCall } from './AudioCall';
import { DialOut, PhoneLegRow } from './PhoneLegs';

/** The meeting's audio: join with the microphone or listen only, mute, push-to-talk, device, who is in it. */
export function AudioPanel({
  client,
  snapshot,
  self,
  isOrganizer,
  policy,
}: {
  client: ConferenceClient;
  snapshot: ConferenceSnapshot;
  self: Participant | null;
  isOrganizer: boolean;
  policy: MeetingPolicy;
}) {
  const call = useAudioCall(client);
  const { t } = useTranslation();
  const state = useSyncExternalStore(call?.subscribe ?? noop, call?.getSnapshot ?? idle);
  const audio = snapshot.audio;
  const inCall = state.phase !== 'idle' && state.phase !== 'failed';
  usePushToTalk(call, inCall && state.muted && !state.listenOnly);
  const devices = useMicrophones(inCall && !state.listenOnly);

  const rule = audioPolicy(policy);
  const mayTalk = rule === 'anyone' || (rule === 'presenters' && (self?.role === 'presenter' || self?.role === 'organizer'));
  const names = new Map(snapshot.roster.map((p) => [p.id, p.name]));
  const phones = audio?.phones ?? [];
  const phoneIds = new Set(phones.map((l) => l.id));
  const people = audio?.participants.filter((p) => !phoneIds.has(p.id)) ?? [];

  let body;
  if (!audio || audio.service === 'unconfigured') {
    body = (
      <p className="muted small" data-testid="audio-unavailable">
        {t('audio.unconfigured')}
      </p>
    );
  } else if (rule === 'off') {
    body = (
      <p className="muted small" data-testid="audio-off">
        {t('audio.off')}
      </p>
    );
  } else {
    body = (
      <>
        {audio.service === 'down' && (
          <p className="muted small" role="status" data-testid="audio-restarting">
            {t('audio.restarting')}
          </p>
        )}
        {!inCall ? (
          <div className="audio-actions">
            {audio.added && <p className="small">{t('audio.isOn', { count: audio.participants.length })}</p>}
            {mayTalk && (
              <button type="button" className="primary small" disabled={audio.service !== 'ready'} onClick={() => void call?.join(false)} data-testid="audio-join">
                {audio.added ? t('audio.join') : t('audio.add')}
              </button>
            )}
            <button
              type="button"
              className="secondary small"
              disabled={audio.service !== 'ready' || (!audio.added && !mayTalk)}
              onClick={() => void call?.join(true)}
              data-testid="audio-listen"
            >
              {t('audio.listen')}
            </button>
          </div>
        ) : (
          <div className="audio-actions" data-testid="audio-controls" data-phase={state.phase}>
            {state.phase !== 'connected' && <span className="small muted">{state.phase === 'rejoining' ? t('audio.reconnecting') : t('audio.connecting')}</span>}
            {!state.listenOnly && (
              <button type="button" className="secondary small" onClick={() => call?.setMuted(!state.muted)} aria-pressed={state.muted} data-testid="audio-mute">
                {state.muted ? t('audio.unmute') : t('audio.mute')}
              </button>
            )}
            {!state.listenOnly && state.muted && <span className="small muted">{state.pushToTalk ? t('audio.talking') : t('audio.holdSpace')}</span>}
            {state.listenOnly && <span className="small muted">{t('audio.listeningOnly')}</span>}
            {!state.listenOnly && devices.length > 1 && (
              <select aria-label={t('audio.microphone')} value={state.deviceId ?? ''} onChange={(e) => void call?.setDevice(e.target.value)} data-testid="audio-device">
                {devices.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || t('audio.microphoneN', { n: i + 1 })}
                  </option>
                ))}
              </select>
            )}
            <button type="button" className="danger small" onClick={() => call?.leave()} data-testid="audio-leave">
              {t('audio.leave')}
            </button>
          </div>
        )}
        {audio.dialOut && mayTalk && audio.service === 'ready' && (self?.user != null || dialOutPolicy(policy) === 'anyone') && (
          <DialOut client={client} signedIn={self?.user != null} mayCallMine={self?.user != null || dialOutPolicy(policy) === 'anyone'} mayCallOthers={isOrganizer || dialOutPolicy(policy) === 'anyone'} />
        )}
        {state.error && (
          <p className="small error" role="alert" data-testid="audio-error">
            {state.error.startsWith('audio.err.') ? t(state.error) : state.error}
          </p>
        )}
        {(people.length > 0 || phones.length > 0) && (
          <ul className="audio-list" data-testid="audio-roster">
            {phones.map((leg) => (
              <PhoneLegRow key={leg.id} client={client} leg={leg} audio={audio.participants.find((p) => p.id === leg.id)} selfId={snapshot.selfId} isOrganizer={isOrganizer} />
            ))}
            {people.map((p) => {
              const name = names.get(p.id) ?? t('stage.someone');
              return (
                <li
                  key={p.id}
                  className={p.speaking ? 'speaking' : undefined}
                  data-testid="audio-participant"
                  data-participant-id={p.id}
                  data-speaking={p.speaking}
                  data-muted={p.muted}
                  data-connected={p.connected}
                >
                  <span className="speaking-dot" aria-hidden="true" />
                  <span className="name">{name}</span>
                  {p.id === snapshot.selfId && <span className="muted small"> ({t('common.you')})</span>}
                  <span className="badges">
                    {p.listenOnly ? <span className="badge">{t('audio.badgeListening')}</span> : p.muted ? <span className="badge">{t('audio.badgeMuted')}</span> : null}
                    {p.speaking && <span className="badge speaking">{t('audio.badgeSpeaking')}</span>}
                  </span>
                  {isOrganizer && p.id !== snapshot.selfId && (
                    <span className="row-actions">
                      {!p.muted && (
                        <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.mute', participantId: p.id, muted: true })} aria-label={t('audio.muteWho', { name })} data-testid="audio-mute-other">
                          {t('audio.mute')}
                        </button>
                      )}
                      <button type="button" className="small secondary" onClick={() => client.send({ type: 'audio.remove', participantId: p.id })} aria-label={t('audio.removeWho', { name })} data-testid="audio-remove-other">
                        {t('roster.remove')}
                      </button>
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </>
    );
  }
  return (
    <section className="panel audio" aria-labelledby="audio-title" data-testid="audio-panel">
      <h2 id="audio-title">{t('audio.title')}</h2>
      {body}
    </section>
  );
}

function useAudioCall(client: ConferenceClient): AudioCall | null {
  const [call, setCall] = useState<AudioCall | null>(null);
  useEffect(() => {
    if (typeof RTCPeerConnection !== 'function') return;
    const c = new AudioCall(client);
    setCall(c);
    return () => {
      c.leave();
      c.dispose();
      setCall(null);
    };
  }, [client]);
  return call;
}

/** Hold the space bar to talk while muted (not while typing in a field). */
function usePushToTalk(call: AudioCall | null, enabled: boolean) {
  useEffect(() => {
    if (!call || !enabled) return;
    const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    const down = (e: KeyboardEvent) => {
      if (e.code !== 'Space' || typing(e.target)) return;
      e.preventDefault();
      if (!e.repeat) call.pushToTalk(true);
    };
    const up = (e: KeyboardEvent) => {
      if (e.code !== 'Space' || typing(e.target)) return;
      e.preventDefault();
      call.pushToTalk(false);
    };
    const blur = () => call.pushToTalk(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', blur);
      call.pushToTalk(false);
    };
  }, [call, enabled]);
}

function useMicrophones(enabled: boolean): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    if (!enabled || !navigator.mediaDevices?.enumerateDevices) return;
    let live = true;
    const load = () =>
      navigator.mediaDevices
        .enumerateDevices()
        .then((list) => live && setDevices(list.filter((d) => d.kind === 'audioinput')))
        .catch(() => {});
    void load();
    navigator.mediaDevices.addEventListener('devicechange', load);
    return () => {
      live = false;
      navigator.mediaDevices.removeEventListener('devicechange', load);
    };
  }, [enabled]);
  return devices;
}

const noop = () => () => {};
const IDLE_CALL = { phase: 'idle', listenOnly: false, muted: false, pushToTalk: false, deviceId: null, error: null } as const;
const idle = () => IDLE_CALL;
