import { useState, type FormEvent } from 'react';
import type { MeetingPolicy } from '@baton/protocol';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { Modal } from '../ui/Modal';
import { PolicyFields } from '../ui/PolicyFields';

/** The organizer changes the meeting policy live; everyone gets conference.updated. */
export function SettingsDialog({ client, policy, onClose }: { client: ConferenceClient; policy: MeetingPolicy; onClose(): void }) {
  const [value, setValue] = useState<MeetingPolicy>(policy);
  function submit(e: FormEvent) {
    e.preventDefault();
    if (client.updatePolicy(value)) onClose();
  }
  return (
    <Modal title="Meeting settings" onClose={onClose} testId="settings-dialog">
      <form className="form" onSubmit={submit}>
        <PolicyFields value={value} onChange={setValue} idPrefix="settings" />
        <div className="actions">
          <button className="primary" type="submit" data-testid="settings-save">
            Save
          </button>
          <button className="secondary" type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
