import { useState } from 'react';
import type { ConferenceClient } from '../conference/ConferenceClient';
import { useTranslation } from 'react-i18next';
import { Modal } from '../ui/Modal';

/**
 * The organizer confirms "End meeting for all" (unlike Leave, it disconnects everyone, the lobby and
 * the shared desktop included). The meeting itself stays: its link starts it again later.
 */
export function EndForAllDialog({ client, onClose }: { client: ConferenceClient; onClose(): void }) {
  const [busy, setBusy] = useState(false);
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  async function end() {
    setBusy(true);
    setError(null);
    try {
      // The server then sends conference.ended to everyone, and this page shows the end screen.
      await client.endForAll();
    } catch (err) {
      setBusy(false);
      setError((err as { message?: string }).message ?? t('endForAll.failed'));
    }
  }
  return (
    <Modal title={t('endForAll.title')} onClose={onClose} testId="end-for-all-dialog">
      <p>{t('endForAll.body')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="danger" onClick={() => void end()} disabled={busy} data-testid="end-for-all-confirm">
          {t('meeting.endForAll')}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Modal>
  );
}
