import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { errorText } from '../api/client';
import { useSession } from '../session/SessionContext';

/** Sign-in or sign-up form; on success goes to `next`. */
export function AuthForm({ mode, next }: { mode: 'signin' | 'signup'; next: string }) {
  const { signIn, signUp } = useSession();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { t } = useTranslation();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signin') await signIn(username.trim(), password);
      else await signUp(username.trim(), password, displayName.trim() || undefined);
      navigate(next, { replace: true });
    } catch (err) {
      const text = errorText(err);
      // Server messages start in lower case ("this password is one of the most common…").
      setError(text.charAt(0).toUpperCase() + text.slice(1));
      setBusy(false);
    }
  }

  const signup = mode === 'signup';
  return (
    <form className="card form" onSubmit={submit} aria-label={signup ? t('auth.createTitle') : t('auth.signIn')} data-testid={`${mode}-form`}>
      <h2>{signup ? t('auth.createTitle') : t('auth.signIn')}</h2>
      <label>
        {t('auth.username')}
        <input
          name="username"
          autoComplete="username"
          required
          minLength={2}
          maxLength={32}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          data-testid={`${mode}-username`}
        />
      </label>
      {signup && (
        <label>
          <span>
            {t('auth.displayName')} <span className="hint">{t('home.optional')}</span>
          </span>
          <input
            name="displayName"
            autoComplete="name"
            maxLength={64}
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
            data-testid="signup-displayname"
          />
        </label>
      )}
      <label>
        {t('auth.password')}
        <input
          name="password"
          type="password"
          autoComplete={signup ? 'new-password' : 'current-password'}
          required
          minLength={signup ? 8 : 1}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid={`${mode}-password`}
          aria-describedby={signup ? 'signup-password-hint' : undefined}
        />
      </label>
      {signup && (
        <p className="hint" id="signup-password-hint" data-testid="signup-password-hint">
          {t('auth.passwordHint')}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid={`${mode}-error`}>
          {error}
        </p>
      )}
      <button className="primary" type="submit" disabled={busy} data-testid={`${mode}-submit`}>
        {busy ? t('auth.wait') : signup ? t('auth.create') : t('auth.signIn')}
      </button>
    </form>
  );
}
