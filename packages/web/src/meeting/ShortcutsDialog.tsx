import { useTranslation } from 'react-i18next';
import { Modal } from '../ui/Modal';
import type { Shortcut } from './shortcuts';

/** "?": the meeting's keyboard shortcuts. */
export function ShortcutsDialog({ shortcuts, onClose }: { shortcuts: readonly Shortcut[]; onClose(): void }) {
  const { t } = useTranslation();
  return (
    <Modal title={t('shortcuts.title')} onClose={onClose} testId="shortcuts-dialog">
      <p className="muted small">{t('shortcuts.intro')}</p>
      <table className="shortcuts">
        <tbody>
          {shortcuts.map((s) => (
            <tr key={s.key} data-testid="shortcut">
              <td>
                <kbd>{s.key === '?' ? '?' : s.key.toUpperCase()}</kbd>
              </td>
              <td>{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          {t('shortcuts.close')}
        </button>
      </div>
    </Modal>
  );
}
