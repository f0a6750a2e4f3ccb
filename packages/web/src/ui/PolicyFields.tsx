import { useTranslation } from 'react-i18next';
import { audioPolicy, dialOutPolicy, pollsPolicy, qaPolicy, type PollsPolicy, type QaPolicy, type AudioPolicy, type DialOutPolicy, type ControlPolicy, type GuestPolicy, type MeetingPolicy, type PresentPolicy } from '@baton/protocol';

export const GUEST_LABELS: Record<GuestPolicy, string> = {
  deny: 'Not allowed',
  lobby: 'Wait in the lobby',
  allow: 'Join directly',
};
export const PRESENT_LABELS: Record<PresentPolicy, string> = {
  organizer: 'Only the organizer',
  presenters: 'Organizer and presenters',
  anyone: 'Anyone',
};
export const CONTROL_LABELS: Record<ControlPolicy, string> = {
  never: 'Never',
  'signed-in': 'Signed-in participants',
  anyone: 'Anyone',
};
export const AUDIO_LABELS: Record<AudioPolicy, string> = {
  anyone: 'Anyone may talk',
  presenters: 'Presenters talk, others listen',
  off: 'No audio',
};

export const DIAL_OUT_LABELS: Record<DialOutPolicy, string> = {
  organizer: 'Organizers only',
  anyone: 'Anyone who may talk',
};

/** The meeting-policy choices as labelled selects (dialOut: the server can call telephones). */
export function PolicyFields({ value, onChange, idPrefix, disabled, dialOut }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void; idPrefix: string; disabled?: boolean; dialOut?: boolean }) {
  return (
    <fieldset className="policy" disabled={disabled}>
      <legend>Meeting policy</legend>
      <label>
        Guests without an account
        <select value={value.guests} onChange={(e) => onChange({ ...value, guests: e.target.value as GuestPolicy })} data-testid={`${idPrefix}-guests`}>
          {options(GUEST_LABELS)}
        </select>
      </label>
      <label>
        Who may present
        <select value={value.present} onChange={(e) => onChange({ ...value, present: e.target.value as PresentPolicy })} data-testid={`${idPrefix}-present`}>
          {options(PRESENT_LABELS)}
        </select>
      </label>
      <label>
        Remote control
        <select value={value.control} onChange={(e) => onChange({ ...value, control: e.target.value as ControlPolicy })} data-testid={`${idPrefix}-control`}>
          {options(CONTROL_LABELS)}
        </select>
      </label>
      <label>
        Audio
        <select value={audioPolicy(value)} onChange={(e) => onChange({ ...value, audio: e.target.value as AudioPolicy })} data-testid={`${idPrefix}-audio`}>
          {options(AUDIO_LABELS)}
        </select>
      </label>
      <DataPolicyFields value={value} onChange={onChange} idPrefix={idPrefix} />
      {dialOut && (
        <label>
          Calling other people's phones
          <select value={dialOutPolicy(value)} onChange={(e) => onChange({ ...value, dialOut: e.target.value as DialOutPolicy })} data-testid={`${idPrefix}-dial-out`}>
            {options(DIAL_OUT_LABELS)}
          </select>
        </label>
      )}
    </fieldset>
  );
}

/** Who runs polls and who asks questions (the data-collaboration tools). */
function DataPolicyFields({ value, onChange, idPrefix }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void; idPrefix: string }) {
  const { t } = useTranslation();
  const polls: PollsPolicy[] = ['organizer', 'presenters', 'anyone'];
  const qa: QaPolicy[] = ['anyone', 'signed-in', 'off'];
  return (
    <>
      <label>
        {t('data.policyPolls')}
        <select value={pollsPolicy(value)} onChange={(e) => onChange({ ...value, polls: e.target.value as PollsPolicy })} data-testid={`${idPrefix}-polls`}>
          {polls.map((v) => (
            <option key={v} value={v}>
              {t(`data.policyPollsChoice.${v}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('data.policyQa')}
        <select value={qaPolicy(value)} onChange={(e) => onChange({ ...value, qa: e.target.value as QaPolicy })} data-testid={`${idPrefix}-qa`}>
          {qa.map((v) => (
            <option key={v} value={v}>
              {t(`data.policyQaChoice.${v}`)}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}

function options(labels: Record<string, string>) {
  return Object.entries(labels).map(([v, label]) => (
    <option key={v} value={v}>
      {label}
    </option>
  ));
}

export function policySummary(p: MeetingPolicy): string {
  return `Guests: ${GUEST_LABELS[p.guests].toLowerCase()} · Presenting: ${PRESENT_LABELS[p.present].toLowerCase()} · Control: ${CONTROL_LABELS[p.control].toLowerCase()} · Audio: ${AUDIO_LABELS[audioPolicy(p)].toLowerCase()}`;
}
