import { useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { useTranslation } from 'react-i18next';

/** Meeting ids are URL-safe (base64url); anything else is not one of ours. */
const ID = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * The meeting id in what someone pasted: a meeting URL (any host: the same meeting may be reached
 * under another name), a path `/m/<id>`, or the bare code. Null when it is none of these.
 */
export function parseMeetingRef(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  if (ID.test(t)) return t;
  let path = t;
  try {
    path = new URL(t, 'http://x').pathname;
  } catch {
    return null;
  }
  const m = /^\/m\/([^/?#]+)\/?$/.exec(path);
  if (!m) return null;
  let id = m[1]!;
  try {
    id = decodeURIComponent(id);
  } catch {
    return null;
  }
  return ID.test(id) ? id : null;
}

/** "Join by link or code": paste a meeting URL or its code and go to that meeting. */
export function JoinByLink() {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();
  const { t } = useTranslation();
  const inputId = useId();
  const errorId = useId();
  function submit(e: FormEvent) {
    e.preventDefault();
    const id = parseMeetingRef(text);
    if (!id) {
      setError(t('joinLink.invalid'));
      return;
    }
    navigate(`/m/${encodeURIComponent(id)}`);
  }
  return (
    <form className="card form join-by-link" onSubmit={submit} aria-labelledby={`${inputId}-title`} data-testid="join-by-link">
      <h2 id={`${inputId}-title`}>{t('joinLink.title')}</h2>
      <div className="join-row">
        <label htmlFor={inputId} className="sr-only">
          {t('joinLink.label')}
        </label>
        <input
          id={inputId}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
          placeholder={t('joinLink.placeholder')}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          data-testid="join-link"
        />
        <button className="primary" type="submit" disabled={!text.trim()} data-testid="join-link-submit">
          {t('joinLink.submit')}
        </button>
      </div>
      {error && (
        <p className="error small" role="alert" id={errorId} data-testid="join-link-error">
          {error}
        </p>
      )}
    </form>
  );
}
