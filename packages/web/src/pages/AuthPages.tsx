import { Link, Navigate, useSearchParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session/SessionContext';
import { safeNext } from '../ui/safeNext';
import { AuthForm } from './AuthForm';
import { TopBar } from '../ui/TopBar';

function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const { user } = useSession();
  const [params] = useSearchParams();
  const { t } = useTranslation();
  const next = safeNext(params.get('next'));
  if (user) return <Navigate to={next} replace />;
  const other = mode === 'signin' ? '/signup' : '/signin';
  const query = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;
  return (
    <div className="page">
      <TopBar />
      <main className="narrow">
        <AuthForm mode={mode} next={next} />
        <p className="center">
          {mode === 'signin' ? t('landing.noAccount') : t('auth.haveAccount')}{' '}
          <Link to={other + query} data-testid={`goto-${mode === 'signin' ? 'signup' : 'signin'}`}>
            {mode === 'signin' ? t('landing.createOne') : t('auth.signIn')}
          </Link>
        </p>
      </main>
    </div>
  );
}

export const SignInPage = () => <AuthPage mode="signin" />;
export const SignUpPage = () => <AuthPage mode="signup" />;
