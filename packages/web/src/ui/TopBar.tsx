import type { ReactNode } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session/SessionContext';
import { LanguagePicker } from '../i18n/LanguagePicker';

/** The site header: brand, the signed-in user and sign out, plus optional page-specific content. */
export function TopBar({ children }: { children?: ReactNode }) {
  const { user, signOut } = useSession();
  const navigate = useNavigate();
  const { t } = useTranslation();
  return (
    <header className="topbar">
      <Link to="/" className="brand" aria-label={t('topbar.home')}>
        <span className="brand-mark" aria-hidden="true">
          ◆
        </span>{' '}
        Baton
      </Link>
      <div className="topbar-middle">{children}</div>
      <LanguagePicker />
      {user && (
        <div className="topbar-user">
          <span className="who" data-testid="current-user" title={user.username}>
            {user.displayName}
          </span>
          <button
            className="link"
            type="button"
            data-testid="signout"
            onClick={() => {
              void signOut().then(() => navigate('/'));
            }}
          >
            {t('topbar.signOut')}
          </button>
        </div>
      )}
    </header>
  );
}
