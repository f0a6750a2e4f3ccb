import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { lobbyPolicy, recordingPolicy, whiteboardPolicy, type MeetingPolicy } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { Modal } from '../ui/Modal';
import { PolicyFields } from '../ui/PolicyFields';

/** The organizer changes the meeting policy live; everyone gets conference.updated. */
export function SettingsDialog({ client, policy, onClose }: { client: ConferenceClient; policy: MeetingPolicy; onClose(): void }) {
  const [value, setValue] = useState<MeetingPolicy>(policy);
  const { t } = useTranslation();
  function submit(e: FormEvent) {
    e.preventDefault();
    if (client.updatePolicy(value)) onClose();
  }
  return (
    <Modal title={t('settings.title')} onClose={onClose} testId="settings-dialog">
      <form className="form" onSubmit={submit}>
        <PolicyFields value={value} onChange={setValue} idPrefix="settings" dialOut={client.snapshot.audio?.dialOut === true} />
        <LobbyField value={value} onChange={setValue} />
        <RecordingField value={value} onChange={setValue} />
        <WhiteboardField value={value} onChange={setValue} />
        <div className="actions">
          <button className="primary" type="submit" data-testid="settings-save">
            {t('settings.save')}
          </button>
          <button className="secondary" type="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type LobbyChoice = 'off' | 'guests' | 'uninvited';

/**
 * Who waits in the lobby, as one choice over two policy fields: `guests` (how guests join) and
 * `lobby` (whether signed-in users who were not invited wait too).
 */
function LobbyField({ value, onChange }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void }) {
  const { t } = useTranslation();
  const choice: LobbyChoice = lobbyPolicy(value) === 'uninvited' ? 'uninvited' : value.guests === 'lobby' ? 'guests' : 'off';
  function pick(c: LobbyChoice) {
    if (c === 'off') onChange({ ...value, lobby: 'guests', guests: value.guests === 'lobby' ? 'allow' : value.guests });
    else if (c === 'guests') onChange({ ...value, lobby: 'guests', guests: 'lobby' });
    else onChange({ ...value, lobby: 'uninvited', guests: value.guests === 'deny' ? 'deny' : 'lobby' });
  }
  return (
    <label>
      {t('settings.lobby')}
      <select data-testid="settings-lobby" value={choice} onChange={(e) => pick(e.target.value as LobbyChoice)}>
        <option value="guests">{t('settings.lobbyGuests')}</option>
        <option value="uninvited">{t('settings.lobbyUninvited')}</option>
        <option value="off">{t('settings.lobbyOff')}</option>
      </select>
      <span className="hint small">{t('settings.lobbyHint')}</span>
    </label>
  );
}

/** Whether organizers may record the meeting. */
function RecordingField({ value, onChange }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void }) {
  const { t } = useTranslation();
  return (
    <label>
      {t('recording.policyLabel')}
      <select value={recordingPolicy(value)} onChange={(e) => onChange({ ...value, recording: e.target.value as 'organizer' | 'off' })} data-testid="settings-recording">
        <option value="organizer">{t('recording.policyOrganizer')}</option>
        <option value="off">{t('recording.policyOff')}</option>
      </select>
    </label>
  );
}

/** Who draws on the whiteboard. */
function WhiteboardField({ value, onChange }: { value: MeetingPolicy; onChange(p: MeetingPolicy): void }) {
  const { t } = useTranslation();
  return (
    <label>
      {t('whiteboard.policyLabel')}
      <select value={whiteboardPolicy(value)} onChange={(e) => onChange({ ...value, whiteboard: e.target.value as 'anyone' | 'presenters' })} data-testid="settings-whiteboard">
        <option value="anyone">{t('whiteboard.policyAnyone')}</option>
        <option value="presenters">{t('whiteboard.policyPresenters')}</option>
      </select>
    </label>
  );
}
