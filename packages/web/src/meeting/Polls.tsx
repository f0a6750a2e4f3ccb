import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_POLL_OPTION, MAX_POLL_OPTIONS, MAX_POLL_QUESTION, MIN_POLL_OPTIONS, type Poll } from '@baton/protocol';
import type { ConferenceClient, CommandError } from '../conference/ConferenceClient';

/**
 * Polls: whoever may run them creates one, watches the counts come in, closes it and publishes the
 * results; everyone else votes and sees their own choice until the results are published. The
 * server decides who sees what; this only shows what it sent.
 */
export function Polls({ client, polls, mayRun, enabled }: { client: ConferenceClient; polls: readonly Poll[]; mayRun: boolean; enabled: boolean }) {
  const { t } = useTranslation();
  const [creating, setCreating] = useState(false);
  const newestFirst = [...polls].reverse();
  return (
    <section className="panel polls" aria-labelledby="polls-title" data-testid="polls">
      <div className="panel-head">
        <h2 id="polls-title">{t('data.tab.polls')}</h2>
        {mayRun && !creating && (
          <button type="button" className="secondary small-button" onClick={() => setCreating(true)} disabled={!enabled} data-testid="poll-new">
            {t('data.newPoll')}
          </button>
        )}
      </div>
      {creating && <PollForm client={client} onDone={() => setCreating(false)} />}
      {polls.length === 0 && !creating && <p className="muted small">{mayRun ? t('data.noPollsRunner') : t('data.noPolls')}</p>}
      <ol className="poll-list">
        {newestFirst.map((p) => (
          <PollCard key={p.id} client={client} poll={p} enabled={enabled} />
        ))}
      </ol>
    </section>
  );
}

function PollForm({ client, onDone }: { client: ConferenceClient; onDone(): void }) {
  const { t } = useTranslation();
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState(['', '']);
  const [multiple, setMultiple] = useState(false);
  const [anonymous, setAnonymous] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const filled = options.map((o) => o.trim()).filter(Boolean);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.request({ type: 'poll.create', poll: { question: question.trim(), options: filled, multiple, anonymous } });
      onDone();
    } catch (err) {
      setError((err as CommandError).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="poll-form" onSubmit={submit} data-testid="poll-form">
      <label>
        {t('data.pollQuestion')}
        <input value={question} maxLength={MAX_POLL_QUESTION} onChange={(e) => setQuestion(e.target.value)} required data-testid="poll-question" />
      </label>
      <fieldset>
        <legend>{t('data.pollOptions')}</legend>
        {options.map((o, i) => (
          <div className="poll-option-input" key={i}>
            <input
              value={o}
              maxLength={MAX_POLL_OPTION}
              aria-label={t('data.optionN', { n: i + 1 })}
              onChange={(e) => setOptions(options.map((x, j) => (j === i ? e.target.value : x)))}
              data-testid="poll-option-input"
            />
            {options.length > MIN_POLL_OPTIONS && (
              <button type="button" className="secondary icon-button" aria-label={t('data.removeOption', { n: i + 1 })} onClick={() => setOptions(options.filter((_, j) => j !== i))}>
                ×
              </button>
            )}
          </div>
        ))}
        {options.length < MAX_POLL_OPTIONS && (
          <button type="button" className="secondary small-button" onClick={() => setOptions([...options, ''])} data-testid="poll-add-option">
            {t('data.addOption')}
          </button>
        )}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={multiple} onChange={(e) => setMultiple(e.target.checked)} data-testid="poll-multiple" /> {t('data.multiple')}
      </label>
      <label className="check">
        <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} data-testid="poll-anonymous" /> {t('data.anonymousPoll')}
      </label>
      {error && (
        <p className="error small" role="alert" data-testid="poll-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="secondary" onClick={onDone}>
          {t('data.cancel')}
        </button>
        <button type="submit" className="primary" disabled={busy || !question.trim() || filled.length < MIN_POLL_OPTIONS} data-testid="poll-start">
          {t('data.startPoll')}
        </button>
      </div>
    </form>
  );
}

function PollCard({ client, poll, enabled }: { client: ConferenceClient; poll: Poll; enabled: boolean }) {
  const { t } = useTranslation();
  const [choice, setChoice] = useState<number[]>(poll.mine ?? []);
  const voted = poll.mine !== undefined;
  const open = poll.state === 'open';
  const total = poll.results ? poll.results.reduce((a, b) => a + b, 0) : 0;
  const mayManage = poll.results !== undefined && poll.state !== 'published';
  const inputName = `poll-${poll.id}`;

  function toggle(i: number) {
    setChoice((c) => (poll.multiple ? (c.includes(i) ? c.filter((x) => x !== i) : [...c, i]) : [i]));
  }

  function vote(e: FormEvent) {
    e.preventDefault();
    if (choice.length) client.send({ type: 'poll.vote', pollId: poll.id, choices: choice });
  }

  return (
    <li className="poll" data-testid="poll" data-state={poll.state} data-poll={poll.id}>
      <div className="poll-head">
        <strong className="poll-question" data-testid="poll-title">
          {poll.question}
        </strong>
        <span className={`tag tag-${poll.state}`} data-testid="poll-state">
          {t(`data.state.${poll.state}`)}
        </span>
      </div>
      <p className="muted small">
        {t('data.pollBy', { name: poll.createdBy.name })} · {t('data.voters', { count: poll.voters })}
        {poll.multiple ? ` · ${t('data.multipleShort')}` : ''}
        {poll.anonymous ? ` · ${t('data.anonymousShort')}` : ''}
      </p>
      {poll.results ? (
        <ul className="poll-results" data-testid="poll-results" aria-label={t('data.results')}>
          {poll.options.map((o, i) => {
            const n = poll.results![i] ?? 0;
            const pct = total > 0 ? Math.round((n * 100) / total) : 0;
            return (
              <li key={i} data-testid="poll-result" data-count={n} className={poll.mine?.includes(i) ? 'mine' : undefined}>
                <div className="poll-result-label">
                  <span>{o}</span>
                  <span className="muted">
                    {n} ({pct}%)
                  </span>
                </div>
                <div className="bar" aria-hidden="true">
                  <div className="bar-fill" style={{ width: `${pct}%` }} />
                </div>
                {poll.names && poll.names[i]!.length > 0 && <div className="muted small poll-names">{poll.names[i]!.join(', ')}</div>}
              </li>
            );
          })}
        </ul>
      ) : null}
      {open && (
        <form className="poll-vote" onSubmit={vote}>
          <fieldset>
            <legend className="sr-only">{poll.question}</legend>
            {poll.options.map((o, i) => (
              <label key={i} className="check">
                <input
                  type={poll.multiple ? 'checkbox' : 'radio'}
                  name={inputName}
                  checked={choice.includes(i)}
                  onChange={() => toggle(i)}
                  disabled={!enabled}
                  data-testid="poll-choice"
                />{' '}
                {o}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary small-button" disabled={!enabled || choice.length === 0} data-testid="poll-vote">
            {voted ? t('data.changeVote') : t('data.vote')}
          </button>
          {voted && (
            <span className="muted small" role="status" data-testid="poll-voted">
              {' '}
              {t('data.voted')}
            </span>
          )}
        </form>
      )}
      {!open && !poll.results && (
        <p className="muted small" data-testid="poll-waiting">
          {voted ? t('data.yourChoice', { choice: poll.mine!.map((i) => poll.options[i]).join(', ') }) + ' · ' : ''}
          {t('data.resultsLater')}
        </p>
      )}
      {mayManage && (
        <div className="form-actions">
          {open && (
            <button type="button" className="secondary small-button" onClick={() => client.send({ type: 'poll.close', pollId: poll.id })} data-testid="poll-close">
              {t('data.closePoll')}
            </button>
          )}
          <button type="button" className="primary small-button" onClick={() => client.send({ type: 'poll.publish', pollId: poll.id })} data-testid="poll-publish">
            {t('data.publish')}
          </button>
        </div>
      )}
    </li>
  );
}
