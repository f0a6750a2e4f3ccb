import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_QUESTION_LENGTH, type Question } from '@baton/protocol';
import type { ConferenceClient, CommandError } from '../conference/ConferenceClient';

/**
 * Q&A: people ask (optionally without their name shown), upvote others' questions, and presenters
 * mark them answered or dismiss them. The list comes ranked from the client (questionRank).
 */
export function QandA({
  client,
  questions,
  mayAsk,
  moderator,
  enabled,
}: {
  client: ConferenceClient;
  questions: readonly Question[];
  mayAsk: string | null;
  moderator: boolean;
  enabled: boolean;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [anonymous, setAnonymous] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function ask(e: FormEvent) {
    e.preventDefault();
    const q = text.trim();
    if (!q) return;
    setError(null);
    try {
      await client.request({ type: 'qa.ask', text: q, anonymous });
      setText('');
    } catch (err) {
      setError((err as CommandError).message);
    }
  }

  return (
    <section className="panel qa" aria-labelledby="qa-title" data-testid="qa">
      <h2 id="qa-title">{t('data.tab.qa')}</h2>
      {mayAsk === null ? (
        <form className="qa-form" onSubmit={ask}>
          <label htmlFor="qa-input" className="sr-only">
            {t('data.askLabel')}
          </label>
          <textarea
            id="qa-input"
            rows={2}
            value={text}
            maxLength={MAX_QUESTION_LENGTH}
            placeholder={t('data.askPlaceholder')}
            onChange={(e) => setText(e.target.value)}
            disabled={!enabled}
            data-testid="qa-input"
          />
          <div className="form-actions">
            <label className="check small">
              <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} data-testid="qa-anonymous" /> {t('data.askAnonymously')}
            </label>
            <button type="submit" className="primary small-button" disabled={!enabled || !text.trim()} data-testid="qa-ask">
              {t('data.ask')}
            </button>
          </div>
          {error && (
            <p className="error small" role="alert" data-testid="qa-error">
              {error}
            </p>
          )}
        </form>
      ) : (
        <p className="muted small" data-testid="qa-closed">
          {mayAsk}
        </p>
      )}
      {questions.length === 0 && <p className="muted small">{t('data.noQuestions')}</p>}
      <ol className="qa-list" aria-live="polite">
        {questions.map((q) => (
          <li key={q.id} className={`question ${q.state}`} data-testid="question" data-state={q.state} data-votes={q.votes}>
            <button
              type="button"
              className={q.voted ? 'primary vote-button' : 'secondary vote-button'}
              aria-pressed={q.voted}
              aria-label={q.voted ? t('data.unvote', { count: q.votes }) : t('data.upvote', { count: q.votes })}
              disabled={!enabled || q.mine || q.state === 'dismissed' || mayAsk !== null}
              onClick={() => client.send({ type: 'qa.vote', questionId: q.id, up: !q.voted })}
              data-testid="question-vote"
            >
              ▲ <span data-testid="question-votes">{q.votes}</span>
            </button>
            <div className="question-body">
              <div className="question-text" data-testid="question-text">
                {q.text}
              </div>
              <div className="muted small">
                <span data-testid="question-author">{q.author ? q.author.name : t('data.anonymous')}</span>
                {q.mine && ` · ${t('data.yours')}`}
                {q.state !== 'open' && (
                  <>
                    {' · '}
                    <span className={`tag tag-${q.state}`}>{t(`data.qstate.${q.state}`)}</span>
                  </>
                )}
              </div>
              {moderator && (
                <div className="question-actions">
                  {q.state !== 'answered' && (
                    <button type="button" className="secondary small-button" onClick={() => client.send({ type: 'qa.mark', questionId: q.id, state: 'answered' })} data-testid="question-answered">
                      {t('data.markAnswered')}
                    </button>
                  )}
                  {q.state !== 'dismissed' && (
                    <button type="button" className="secondary small-button" onClick={() => client.send({ type: 'qa.mark', questionId: q.id, state: 'dismissed' })} data-testid="question-dismiss">
                      {t('data.dismiss')}
                    </button>
                  )}
                  {q.state !== 'open' && (
                    <button type="button" className="secondary small-button" onClick={() => client.send({ type: 'qa.mark', questionId: q.id, state: 'open' })} data-testid="question-reopen">
                      {t('data.reopen')}
                    </button>
                  )}
                </div>
              )}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
