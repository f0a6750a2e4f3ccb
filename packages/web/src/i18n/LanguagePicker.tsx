import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language } from './index';

/** Switches the UI language at once (kept for next time). */
export function LanguagePicker() {
  const { t, i18n } = useTranslation();
  const current = (i18n.resolvedLanguage ?? 'en') as Language;
  return (
    <label className="language-picker">
      <span className="sr-only">{t('language.label')}</span>
      <select value={current} onChange={(e) => void i18n.changeLanguage(e.target.value)} data-testid="language" aria-label={t('language.label')}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
