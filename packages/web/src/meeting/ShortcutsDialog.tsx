import { Modal } from '../ui/Modal';
import type { Shortcut } from './shortcuts';

/** "?": the meeting's keyboard shortcuts. */
export function ShortcutsDialog({ shortcuts, onClose }: { shortcuts: readonly Shortcut[]; onClose(): void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="shortcuts-dialog">
      <p className="muted small">They work anywhere in the meeting except while you type, and not while your keys go to a shared screen you control.</p>
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
          Close
        </button>
      </div>
    </Modal>
  );
}
