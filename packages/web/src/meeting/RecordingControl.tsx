/**
 * The meeting's recording in the header: a "Recording" indicator everyone sees the whole time, and the
 * organizer's start/stop button (the server authorizes it; the policy may forbid it). Everyone is told
 * in a toast when it starts (or, joining a meeting already recorded, on entry) and when it stops.
 */
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { recordingPolicy, type MeetingPolicy, type RecordingState } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import type { Notifier } from '../notify/Notifier';

export function RecordingIndicator({ recording }: { recording: RecordingState | null }) {
  const { t } = useTranslation();
  if (!recording) return null;
  return (
    <span className="recording-indicator" role="status" data-testid="recording-indicator" title={t('recording.indicatorTitle', { by: recording.by })}>
      <span className="recording-dot" aria-hidden="true" />
      {t('recording.indicator')}
    </span>
  );
}

export function RecordingButton({ client, recording, policy }: { client: ConferenceClient; recording: RecordingState | null; policy: MeetingPolicy }) {
  const { t } = useTranslation();
  if (!recording && recordingPolicy(policy) === 'off') return null;
  return recording ? (
    <button type="button" className="secondary" onClick={() => client.send({ type: 'recording.stop' })} data-testid="recording-stop">
      {t('recording.stop')}
    </button>
  ) : (
    <button type="button" className="secondary" onClick={() => client.send({ type: 'recording.start' })} data-testid="recording-start">
      {t('recording.start')}
    </button>
  );
}

/** Toasts: recorded on entry, started, stopped (a stop the server explains comes as its notice). */
export function useRecordingAlerts(recording: RecordingState | null, notifier: Notifier): void {
  const { t } = useTranslation();
  const seen = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    const id = recording?.id ?? null;
    const before = seen.current;
    seen.current = id;
    if (before === id) return;
    if (id && before === undefined) notifier.notify('info', t('recording.joinNotice'));
    else if (id) notifier.notify('info', t('recording.startedNotice', { by: recording!.by }));
    else if (before) notifier.notify('info', t('recording.stoppedNotice'));
  }, [recording, notifier, t]);
}
