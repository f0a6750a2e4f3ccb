import { Link } from 'react-router-dom';
import { useSession } from '../session/SessionContext';
import { TopBar } from '../ui/TopBar';
import { AuthForm } from './AuthForm';
import { JoinByLink } from '../ui/JoinByLink';
import { Dashboard } from './Dashboard';

export function LandingPage() {
  const { user, loadError } = useSession();
  if (user === undefined) {
    return (
      <div className="page">
        <TopBar />
        <main className="narrow">
          <p className="muted" role="status">
            Loading…
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
          <h1>Meetings built around your desktop</h1>
          <p>
            Share a real desktop with the Baton agent, hand over the keyboard and mouse when you choose, and chat with everyone in
            the room. Guests join from a link; no installation needed to watch.
          </p>
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
            No account yet?{' '}
            <Link to="/signup" data-testid="goto-signup">
              Create one
            </Link>
          </p>
        </section>
      </main>
    </div>
  );
}
