import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_CHAT_LENGTH, type ChatMessage, type Participant } from '@baton/protocol';
import type { CommandError, ConferenceClient } from '../conference/ConferenceClient';
import { useTranslation } from 'react-i18next';
import { formatTime } from '../i18n/format';
import { ChatText } from './ChatText';
import { AttachButton, FileAttachment } from './ChatFiles';
import { groupPeople } from './people';

/**
 * The meeting chat, to everyone or privately to one person. Message text is rendered as text nodes
 * and links built as elements (ChatText); never as HTML.
 */
export function Chat({
  client,
  chat,
  selfId,
  lastError,
  enabled,
  roster = [],
}: {
  client: ConferenceClient;
  chat: readonly ChatMessage[];
  selfId: string | null;
  lastError: CommandError | null;
  enabled: boolean;
  roster?: readonly Participant[];
}) {
  const [text, setText] = useState('');
  const { t } = useTranslation();
  // '' is everyone; otherwise the person key of the recipient.
  const [to, setTo] = useState('');
  const self = roster.find((p) => p.id === selfId) ?? null;
  // Everyone else who has a browser seat (an agent alone reads no chat).
  const others = groupPeople(roster, selfId).filter((p) => !p.seats.some((s) => s.id === selfId) && p.primary.client === 'web');
  const recipient = others.find((p) => p.key === to) ?? null;
  const mine = (m: ChatMessage) => m.senderId === selfId || (!!self?.user && m.senderUser === self.user);
  const lastSent = useRef('');
  const log = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const chatError = lastError?.command === 'chat.send' ? lastError : null;

  // Follow new messages unless the reader scrolled up to read older ones.
  useLayoutEffect(() => {
    const el = log.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [chat.length]);

  // A refused message (e.g. rate limited) goes back into the box so it is not lost.
  useEffect(() => {
    if (chatError && lastSent.current) {
      setText((prev) => prev || lastSent.current);
      lastSent.current = '';
    }
  }, [chatError]);

  function send(e?: FormEvent) {
    e?.preventDefault();
    const trimmed = text.trim();
    if (!trimmed) return;
    client.clearError();
    if (client.sendChat(trimmed, recipient?.primary.id)) {
      lastSent.current = trimmed;
      setText('');
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter makes a new line; never send while an IME is composing.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  return (
    <section className="panel chat" aria-labelledby="chat-title">
      <h2 id="chat-title">{t('chat.title')}</h2>
      <ol
        className="chat-log"
        ref={log}
        data-testid="chat-log"
        aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {chat.length === 0 && <li className="muted empty">{t('chat.empty')}</li>}
        {chat.map((m) => (
          <li
            key={m.id}
            className={[mine(m) ? 'mine' : '', m.to ? 'private' : ''].join(' ').trim() || undefined}
            data-testid="chat-message"
            data-sender={m.senderName}
            data-private={m.to ? 'true' : undefined}
          >
            <div className="meta">
              <span className="sender">{m.senderName}</span>
              {!m.senderUser && <span className="guest"> ({t('common.guest')})</span>}
              {m.to && (
                <span className="private-label" data-testid="chat-private">
                  {' '}
                  {mine(m) ? t('chat.privatelyTo', { name: m.to.name }) : t('chat.privatelyToYou')}
                </span>
              )}
              <time dateTime={m.at}>{formatTime(m.at)}</time>
            </div>
            <div className="text" data-testid="chat-text">
              {m.file ? <FileAttachment client={client} file={m.file} mayRemove={mine(m) || self?.role === 'organizer'} /> : <ChatText text={m.text} />}
            </div>
          </li>
        ))}
      </ol>
      {chatError && (
        <p className="error small" role="alert" data-testid="chat-error" data-code={chatError.code}>
          {chatError.code === 'rate_limited' ? t('chat.slowDown', { message: chatError.message }) : chatError.message}
        </p>
      )}
      <form className="chat-form" onSubmit={send}>
        {others.length > 0 && (
          <label className="chat-to small">
            {t('chat.to')}{' '}
            <select value={recipient ? to : ''} onChange={(e) => setTo(e.target.value)} disabled={!enabled} data-testid="chat-to">
              <option value="">{t('chat.everyone')}</option>
              {others.map((p) => (
                <option key={p.key} value={p.key}>
                  {p.user ? t('chat.optionPrivate', { name: p.name }) : t('chat.optionPrivateGuest', { name: p.name })}
                </option>
              ))}
            </select>
          </label>
        )}
        <label htmlFor="chat-input" className="sr-only">
          {t('chat.inputLabel')}
        </label>
        <AttachButton client={client} enabled={enabled} />
        <textarea
          id="chat-input"
          rows={1}
          value={text}
          maxLength={MAX_CHAT_LENGTH}
          placeholder={enabled ? (recipient ? t('chat.placeholderPrivate', { name: recipient.name }) : t('chat.placeholder')) : t('chat.reconnecting')}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          disabled={!enabled}
          data-testid="chat-input"
        />
        <button type="submit" className="primary" disabled={!enabled || !text.trim()} data-testid="chat-send">
          {t('chat.send')}
        </button>
      </form>
    </section>
  );
}
