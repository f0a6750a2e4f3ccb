import { useTranslation } from 'react-i18next';
import type { Notifier } from './Notifier';
import { useToasts } from './NotifierContext';

/**
 * The toasts, in one polite live region that is always in the page (a region added together with
 * its first message is not announced by screen readers).
 */
export function Toasts({ notifier }: { notifier: Notifier }) {
  const toasts = useToasts(notifier);
  const { t: tr } = useTranslation();
  return (
    <div className="toasts" role="status" aria-live="polite" aria-relevant="additions text" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span className="toast-text">{t.text}</span>
          <button type="button" className="icon" aria-label={tr('common.dismissNotification')} onClick={() => notifier.dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
