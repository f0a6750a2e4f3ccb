import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { InviteResponse } from '@baton/protocol';
import { api, errorText } from '../api/client';
import { useTranslation } from 'react-i18next';
import { Modal } from '../ui/Modal';

type Suggestion = { kind: 'user'; username: string; displayName: string } | { kind: 'group'; name: string };

/** How long typing must pause before the server is asked for suggestions. */
const SUGGEST_DELAY_MS = 180;

/**
 * The organizer invites users (by username, with autocomplete on users and groups) and groups;
 * invitations appear on their home page. Unknown entries are named, and what was still sent is said.
 */
export function InviteDialog({ conferenceId, onClose }: { conferenceId: string; onClose(): void }) {
  const [users, setUsers] = useState('');
  const [groups, setGroups] = useState<string[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<InviteResponse | null>(null);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const { t } = useTranslation();

  useEffect(() => {
    let live = true;
    api.groups().then(
      (g) => live && setGroups(g),
      (e: unknown) => {
        if (!live) return;
        setGroups([]);
        setError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  // The word being typed: what follows the last separator.
  const current = /[^,\s;]*$/.exec(users)?.[0] ?? '';
  useEffect(() => {
    if (!current) {
      setSuggestions([]);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api.inviteSuggestions(conferenceId, current).then(
        (s) => {
          if (!live) return;
          const list: Suggestion[] = [
            ...s.users.map((u) => ({ kind: 'user' as const, ...u })),
            ...s.groups.filter((g) => !picked.has(g.name)).map((g) => ({ kind: 'group' as const, name: g.name })),
          ];
          setSuggestions(list);
          setActive(list.length ? 0 : -1);
          setOpen(true);
        },
        () => live && setSuggestions([]), // suggestions are a help; typing a username still works
      );
    }, SUGGEST_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [current, conferenceId]); // `picked` is read when the answer comes

  const names = users
    .split(/[,\s;]+/)
    .map((u) => u.trim())
    .filter(Boolean);
  const listed = open && suggestions.length > 0 && !!current;

  function choose(s: Suggestion) {
    if (s.kind === 'user') {
      setUsers(`${users.slice(0, users.length - current.length)}${s.username}, `);
    } else {
      setUsers(users.slice(0, users.length - current.length));
      setPicked((p) => new Set(p).add(s.name));
    }
    setOpen(false);
    setSuggestions([]);
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (!listed) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((i) => (i + step + suggestions.length) % suggestions.length);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0 && suggestions[active]) {
      e.preventDefault();
      choose(suggestions[active]);
    } else if (e.key === 'Escape') {
      // Closes the list, not the dialog.
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    const groupsSent = [...picked];
    try {
      const r = await api.invite(conferenceId, { users: names, groups: groupsSent });
      setResult(r);
      // Keep what was not found in the box, so it can be corrected.
      setUsers(r.notFound?.users.join(', ') ?? '');
      setPicked(new Set(r.notFound?.groups ?? []));
    } catch (err) {
      setError(t('invite.failed', { error: errorText(err) }));
    } finally {
      setBusy(false);
    }
  }

  const missing = result?.notFound ? [...result.notFound.users.map((u) => t('invite.missingUser', { name: u })), ...result.notFound.groups.map((g) => t('invite.missingGroup', { name: g }))] : [];

  return (
    <Modal title={t('invite.title')} onClose={onClose} testId="invite-dialog">
      <form className="form" onSubmit={submit}>
        <div className="combo">
          <label htmlFor={`${listId}-input`}>
            {t('invite.usernames')} <span className="hint">{t('invite.usernamesHint')}</span>
          </label>
          <input
            id={`${listId}-input`}
            ref={input}
            value={users}
            onChange={(e) => {
              setUsers(e.target.value);
              setOpen(true);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setOpen(false)}
            placeholder={t('invite.placeholder')}
            autoComplete="off"
            spellCheck={false}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={listed}
            aria-controls={listId}
            aria-activedescendant={listed && active >= 0 ? `${listId}-${active}` : undefined}
            data-testid="invite-users"
          />
          {listed && (
            <ul className="combo-list" role="listbox" id={listId} aria-label={t('invite.suggestions')} data-testid="invite-suggestions">
              {suggestions.map((s, i) => (
                <li
                  key={s.kind === 'user' ? `u:${s.username}` : `g:${s.name}`}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  data-testid={s.kind === 'user' ? `suggest-user-${s.username}` : `suggest-group-${s.name}`}
                  // mousedown, not click: the input's blur would close the list first.
                  onMouseDown={(e) => {
                    e.preventDefault();
                    choose(s);
                  }}
                  onMouseEnter={() => setActive(i)}
                >
                  {s.kind === 'user' ? (
                    <>
                      <span className="combo-name">{s.displayName}</span> <span className="muted small">{s.username}</span>
                    </>
                  ) : (
                    <>
                      <span className="badge">{t('invite.group')}</span> <span className="combo-name">{s.name}</span>
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
        <fieldset className="groups">
          <legend>{t('invite.groups')}</legend>
          {groups === null ? (
            <p className="muted small">{t('invite.loadingGroups')}</p>
          ) : groups.length === 0 ? (
            <p className="muted small">{t('invite.noGroups')}</p>
          ) : (
            groups.map((g) => (
              <label key={g} className="check">
                <input
                  type="checkbox"
                  checked={picked.has(g)}
                  onChange={(e) => {
                    const next = new Set(picked);
                    if (e.target.checked) next.add(g);
                    else next.delete(g);
                    setPicked(next);
                  }}
                  data-testid={`invite-group-${g}`}
                />
                {g}
              </label>
            ))
          )}
        </fieldset>
        {error && (
          <p className="error" role="alert" data-testid="invite-error">
            {error}
          </p>
        )}
        {missing.length > 0 && (
          <p className="error" role="alert" data-testid="invite-error">
            {t('invite.notFound', { list: missing.join(', ') })} {result && result.invited.length > 0 ? t('invite.othersSent') : t('invite.nobodyElse')}
          </p>
        )}
        {result && (
          <p className="success" role="status" data-testid="invite-result">
            {result.invited.length === 0 ? t('invite.nobodyNew') : t('invite.invited', { list: result.invited.join(', ') })}
          </p>
        )}
        <div className="actions">
          <button className="primary" type="submit" disabled={busy || (names.length === 0 && picked.size === 0)} data-testid="invite-submit">
            {busy ? t('invite.inviting') : t('invite.send')}
          </button>
          <button className="secondary" type="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
