import type { ReactNode } from 'react';

// A web address in a message: http(s) only; anything else (javascript:, data:, …) stays text.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that usually ends the sentence, not the address.
const TRAILING = /[.,;:!?)\]}'"»]+$/;

/**
 * A chat message's text with its web addresses as links. Built as React elements (text nodes and
 * <a>), never as HTML; a link opens in a new tab with no opener and no referrer.
 */
export function ChatText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    // Keep a closing parenthesis that belongs to the address (Wikipedia-style "(…)").
    if (trail && !(trail[0].startsWith(')') && raw.includes('('))) raw = raw.slice(0, -trail[0].length);
    const href = safeHref(raw);
    if (!href) continue;
    const start = m.index;
    if (start > last) parts.push(text.slice(last, start));
    parts.push(
      <a key={start} href={href} target="_blank" rel="noopener noreferrer" data-testid="chat-link">
        {raw}
      </a>,
    );
    last = start + raw.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}

/** The address as the browser would follow it, if it is http(s) with a host; null otherwise. */
export function safeHref(raw: string): string | null {
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.href : null;
  } catch {
    return null;
  }
}
