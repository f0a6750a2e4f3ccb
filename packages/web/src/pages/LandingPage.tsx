import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session/SessionContext';
import { TopBar } from '../ui/TopBar';
import { AuthForm } from './AuthForm';
import { JoinByLink } from '../ui/JoinByLink';
import { Dashboard } from './Dashboard';

export function LandingPage() {
  const { user, loadError } = useSession();
  const { t } = useTranslation();
  if (user === undefined) {
    return (
      <div className="page">
        <TopBar />
        <main className="narrow">
          <p className="muted" role="status">
            {t('home.loading')}
          </p>
        </main>
      </div>
    );
  }
  if (user) return <Dashboard user={user} />;
  return (
    <div className="page">
      <TopBar />
      <main className="landing">
        <section className="hero">
          <h1>{t('landing.title')}</h1>
          <p>{t('landing.pitch')}</p>
          {loadError && (
            <p className="error" role="alert">
              {loadError}
            </p>
          )}
          <JoinByLink />
        </section>
        <section className="landing-auth">
          <AuthForm mode="signin" next="/" />
          <p className="center">
            {t('landing.noAccount')}{' '}
            <Link to="/signup" data-testid="goto-signup">
              {t('landing.createOne')}
            </Link>
          </p>
        </section>
      </main>
    </div>
  );
}
