import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog on the native <dialog> with showModal(): the page behind is inert and the dialog
 * sits in the top layer. Tab and Shift+Tab wrap around inside it (showModal alone lets focus leave
 * for the browser's own UI), Escape and a click on the backdrop close it, and focus goes back to
 * whatever opened it.
 */
export function Modal({ title, onClose, children, testId }: { title: string; onClose(): void; children: ReactNode; testId?: string }) {
  const titleId = useId();
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  // Read onClose through a ref: callers pass inline functions, and the effect must run once.
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    (dialog.querySelector<HTMLElement>('input, select, textarea, button:not(.modal-close)') ?? dialog.querySelector<HTMLElement>(FOCUSABLE))?.focus();

    // Escape: the dialog's cancel event; React decides when it goes away.
    const onCancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const items = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
      if (items.length === 0) {
        e.preventDefault();
        return;
      }
      const first = items[0]!;
      const last = items[items.length - 1]!;
      const inside = dialog.contains(document.activeElement);
      if (e.shiftKey && (document.activeElement === first || !inside)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
        e.preventDefault();
        first.focus();
      }
    };
    dialog.addEventListener('cancel', onCancel);
    dialog.addEventListener('keydown', onKey);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      dialog.removeEventListener('keydown', onKey);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      className="modal-dialog"
      ref={ref}
      aria-labelledby={titleId}
      data-testid={testId}
      // The dialog element itself is only ever the target of a click on its backdrop: its content fills it.
      onMouseDown={(e) => e.target === e.currentTarget && onClose()}
    >
      <div className="modal card">
        <div className="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="modal-close icon" aria-label={t('common.close')} onClick={onClose}>
            ×
          </button>
        </div>
        {children}
      </div>
    </dialog>
  );
}
