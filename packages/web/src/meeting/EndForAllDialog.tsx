import { useState } from 'react';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { Modal } from '../ui/Modal';

/**
 * The organizer confirms "End meeting for all" (unlike Leave, it disconnects everyone, the lobby and
 * the shared desktop included). The meeting itself stays: its link starts it again later.
 */
export function EndForAllDialog({ client, onClose }: { client: ConferenceClient; onClose(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function end() {
    setBusy(true);
    setError(null);
    try {
      // The server then sends conference.ended to everyone, and this page shows the end screen.
      await client.endForAll();
    } catch (err) {
      setBusy(false);
      setError((err as { message?: string }).message ?? 'Could not end the meeting.');
    }
  }
  return (
    <Modal title="End the meeting for everyone?" onClose={onClose} testId="end-for-all-dialog">
      <p>Everyone is disconnected, including people waiting in the lobby, a shared desktop and the audio. The meeting is not deleted: its link starts it again later.</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="danger" onClick={() => void end()} disabled={busy} data-testid="end-for-all-confirm">
          End meeting for all
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
