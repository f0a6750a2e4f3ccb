/**
 * "Skip to main content": the first thing Tab reaches on every page, shown only when focused. It
 * moves focus to the page's <main> (the meeting's stage and panels), so keyboard and screen reader
 * users need not go through the header's buttons each time.
 */
import { useTranslation } from 'react-i18next';

export function SkipLink() {
  const { t } = useTranslation();
  return (
    <a
      className="skip-link"
      href="#main"
      data-testid="skip-link"
      onClick={(e) => {
        const main = document.querySelector<HTMLElement>('main');
        if (!main) return;
        e.preventDefault();
        if (!main.hasAttribute('tabindex')) main.setAttribute('tabindex', '-1');
        main.focus();
      }}
    >
      {t('topbar.skip')}
    </a>
  );
}
