import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { audioPolicy, dialOutPolicy, pollsPolicy, qaPolicy, type PollsPolicy, type QaPolicy, type AudioPolicy, type DialOutPolicy, type ControlPolicy, type GuestPolicy, type MeetingPolicy, type PresentPolicy } from '@baton/protocol';

/** The choices of each policy field, in the order shown; their words are policy.<field>.<value> in i18n/en.ts. */
const GUESTS: readonly GuestPolicy[] = ['deny', 'lobby', 'allow'];
const PRESENT: readonly PresentPolicy[] = ['organizer', 'presenters', 'anyone'];
const CONTROL: readonly ControlPolicy[] = ['never', 'signed-in', 'anyone'];
const AUDIO: readonly AudioPolicy[] = ['anyone', 'presenters', 'off'];
const DIAL_OUT: readonly DialOutPolicy[] = ['organizer', 'anyone'];

/** The meeting-policy choices as labelled selects (dialOut: the server can call telephones). */
export function PolicyFields({ value, onChange, idPrefix, disabled, dialOut }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void; idPrefix: string; disabled?: boolean; dialOut?: boolean }) {
  const { t } = useTranslation();
  const options = (field: string, values: readonly string[]) =>
    values.map((v) => (
      <option key={v} value={v}>
        {t(`policy.${field}.${v}`)}
      </option>
    ));
  return (
    <fieldset className="policy" disabled={disabled}>
      <legend>{t('policy.legend')}</legend>
      <label>
        {t('policy.guestsLabel')}
        <select value={value.guests} onChange={(e) => onChange({ ...value, guests: e.target.value as GuestPolicy })} data-testid={`${idPrefix}-guests`}>
          {options('guests', GUESTS)}
        </select>
      </label>
      <label>
        {t('policy.presentLabel')}
        <select value={value.present} onChange={(e) => onChange({ ...value, present: e.target.value as PresentPolicy })} data-testid={`${idPrefix}-present`}>
          {options('present', PRESENT)}
        </select>
      </label>
      <label>
        {t('policy.controlLabel')}
        <select value={value.control} onChange={(e) => onChange({ ...value, control: e.target.value as ControlPolicy })} data-testid={`${idPrefix}-control`}>
          {options('control', CONTROL)}
        </select>
      </label>
      <label>
        {t('policy.audioLabel')}
        <select value={audioPolicy(value)} onChange={(e) => onChange({ ...value, audio: e.target.value as AudioPolicy })} data-testid={`${idPrefix}-audio`}>
          {options('audio', AUDIO)}
        </select>
      </label>
      <DataPolicyFields value={value} onChange={onChange} idPrefix={idPrefix} />
      {dialOut && (
        <label>
          {t('policy.dialOutLabel')}
          <select value={dialOutPolicy(value)} onChange={(e) => onChange({ ...value, dialOut: e.target.value as DialOutPolicy })} data-testid={`${idPrefix}-dial-out`}>
            {options('dialOut', DIAL_OUT)}
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

/** One line for the meeting list; the values keep their capitals (German nouns need them). */
export function policySummary(t: TFunction, p: MeetingPolicy): string {
  return t('policy.summary', {
    guests: t(`policy.guests.${p.guests}`),
    present: t(`policy.present.${p.present}`),
    control: t(`policy.control.${p.control}`),
    audio: t(`policy.audio.${audioPolicy(p)}`),
  });
}
