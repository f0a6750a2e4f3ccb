import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
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
    <form className="card form" onSubmit={submit} aria-label={signup ? 'Create an account' : 'Sign in'} data-testid={`${mode}-form`}>
      <h2>{signup ? 'Create an account' : 'Sign in'}</h2>
      <label>
        Username
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
            Display name <span className="hint">(optional)</span>
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
        Password
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
          At least 8 characters. Common passwords and easy patterns (password1, qwerty, 12345678) are refused; a few unrelated words make a good one.
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid={`${mode}-error`}>
          {error}
        </p>
      )}
      <button className="primary" type="submit" disabled={busy} data-testid={`${mode}-submit`}>
        {busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
      </button>
    </form>
  );
}
