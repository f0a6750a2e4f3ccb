import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_CHAT_LENGTH, type ChatMessage } from '@baton/protocol';
import type { CommandError, ConferenceClient } from '../conference/ConferenceClient';

/** The meeting chat. Message text is rendered as text (React escapes it); never as HTML. */
export function Chat({
  client,
  chat,
  selfId,
  lastError,
  enabled,
}: {
  client: ConferenceClient;
  chat: readonly ChatMessage[];
  selfId: string | null;
  lastError: CommandError | null;
  enabled: boolean;
}) {
  const [text, setText] = useState('');
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
      setText((t) => t || lastSent.current);
      lastSent.current = '';
    }
  }, [chatError]);

  function send(e?: FormEvent) {
    e?.preventDefault();
    const trimmed = text.trim();
    if (!trimmed) return;
    client.clearError();
    if (client.sendChat(trimmed)) {
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
      <h2 id="chat-title">Chat</h2>
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
        {chat.length === 0 && <li className="muted empty">No messages yet. Say hello!</li>}
        {chat.map((m) => (
          <li key={m.id} className={m.senderId === selfId ? 'mine' : undefined} data-testid="chat-message" data-sender={m.senderName}>
            <div className="meta">
              <span className="sender">{m.senderName}</span>
              {!m.senderUser && <span className="guest"> (guest)</span>}
              <time dateTime={m.at}>{formatTime(m.at)}</time>
            </div>
            <div className="text" data-testid="chat-text">
              {m.text}
            </div>
          </li>
        ))}
      </ol>
      {chatError && (
        <p className="error small" role="alert" data-testid="chat-error" data-code={chatError.code}>
          {chatError.code === 'rate_limited' ? `Slow down: ${chatError.message}` : chatError.message}
        </p>
      )}
      <form className="chat-form" onSubmit={send}>
        <label htmlFor="chat-input" className="sr-only">
          Message (Enter sends, Shift+Enter starts a new line)
        </label>
        <textarea
          id="chat-input"
          rows={1}
          value={text}
          maxLength={MAX_CHAT_LENGTH}
          placeholder={enabled ? 'Message everyone' : 'Reconnecting…'}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          disabled={!enabled}
          data-testid="chat-input"
        />
        <button type="submit" className="primary" disabled={!enabled || !text.trim()} data-testid="chat-send">
          Send
        </button>
      </form>
    </section>
  );
}

function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
