/**
 * The clipboard with the host, for the participant in control of an agent share (text only, 64 KiB):
 *
 * - to the host: the paste shortcut on the shared screen sends the browser's clipboard first
 *   (Async Clipboard API, navigator.clipboard.readText, where the browser allows it), and a field
 *   here sends any text (the fallback where reading the clipboard is refused);
 * - from the host (when the host allows it, `--clipboard both`): the text goes onto the browser's
 *   clipboard (writeText) and is shown here too, with a Copy button for when the browser refused.
 *
 * The relay passes clipboard frames only between the host and the controller, so nothing here is
 * ever seen by another viewer. Host text is shown as text (React escapes it), never as markup.
 */
import { useCallback, useEffect, useRef, useState, type MutableRefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { SHARE_LIMITS, utf8Length } from '@baton/protocol';
import type { SharedScreenHandle } from '../sharing/SharedScreen';
import type { ClipboardMessage } from '../sharing/ShareConnection';

type Notice =
  | { kind: 'copied' | 'notCopied' | 'off' | 'sent' | 'notSent' }
  | { kind: 'tooLarge' | 'sendTooLarge'; size: number };

export interface ShareClipboard {
  /** Clipboard news from the host (SharedScreen's onClipboard). */
  onClipboard: (msg: ClipboardMessage) => void;
  /** The paste shortcut: the browser's clipboard to the host first (SharedScreen's beforePaste). */
  beforePaste: () => Promise<void>;
  /** Text for the host's clipboard; false (and a notice) when too large or not sent. */
  send: (text: string) => boolean;
  hostText: string | null;
  notice: Notice | null;
}

const kib = (bytes: number) => Math.ceil(bytes / 1024);

export function useShareClipboard(screen: MutableRefObject<SharedScreenHandle | null>): ShareClipboard {
  const [hostText, setHostText] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  // A newer host text must not be overwritten by an older writeText's outcome.
  const latest = useRef(0);

  const send = useCallback(
    (text: string) => {
      const size = utf8Length(text);
      if (size > SHARE_LIMITS.maxClipboardBytes) {
        setNotice({ kind: 'sendTooLarge', size });
        return false;
      }
      const ok = !!screen.current?.sendClipboard(text);
      setNotice({ kind: ok ? 'sent' : 'notSent' });
      return ok;
    },
    [screen],
  );

  const onClipboard = useCallback((msg: ClipboardMessage) => {
    if (msg.type === 'clipboardRefused') {
      setNotice(msg.reason === 'off' ? { kind: 'off' } : { kind: 'tooLarge', size: msg.size });
      return;
    }
    const n = ++latest.current;
    setHostText(msg.text);
    // Needs the page focused (and, in some browsers, a permission): otherwise the text waits here.
    const write = navigator.clipboard?.writeText?.(msg.text) ?? Promise.reject(new Error('no Async Clipboard API'));
    write.then(
      () => n === latest.current && setNotice({ kind: 'copied' }),
      () => n === latest.current && setNotice({ kind: 'notCopied' }),
    );
  }, []);

  const beforePaste = useCallback(async () => {
    if (!navigator.clipboard?.readText) return;
    const text = await navigator.clipboard.readText();
    if (text === '') return; // empty, or nothing the browser calls text
    const size = utf8Length(text);
    if (size > SHARE_LIMITS.maxClipboardBytes) return setNotice({ kind: 'sendTooLarge', size });
    screen.current?.sendClipboard(text);
  }, [screen]);

  return { onClipboard, beforePaste, send, hostText, notice };
}

/** The control bar's clipboard section: the paste field, the host's text, and what happened last. */
export function ClipboardPanel({ clip, hostName: name }: { clip: ShareClipboard; hostName?: string }) {
  const { t } = useTranslation();
  const hostName = name ?? t('clipboard.theHost');
  const [draft, setDraft] = useState('');
  const [open, setOpen] = useState(false);
  const hostField = useRef<HTMLTextAreaElement>(null);
  const n = clip.notice;
  const limit = kib(SHARE_LIMITS.maxClipboardBytes);
  const message =
    n === null
      ? null
      : n.kind === 'tooLarge'
        ? t('clipboard.hostTooLarge', { host: hostName, size: kib(n.size), limit })
        : n.kind === 'sendTooLarge'
          ? t('clipboard.sendTooLarge', { size: kib(n.size), limit })
          : t(`clipboard.${n.kind}`, { host: hostName });
  const error = n !== null && n.kind !== 'copied' && n.kind !== 'sent';
  // Something to read or to do (an error, host text the browser would not take): show the panel.
  useEffect(() => {
    if (n && n.kind !== 'copied' && n.kind !== 'sent') setOpen(true);
  }, [n]);

  const copyHostText = async () => {
    const text = clip.hostText ?? '';
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Older permission rules: select it so that Ctrl+C works.
      hostField.current?.select();
    }
  };

  return (
    <details
      className="clipboard-panel"
      data-testid="clipboard-panel"
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary data-testid="clipboard-toggle">{t('clipboard.title')}</summary>
      {message && (
        <p className={`small${error ? ' error' : ''}`} role={error ? 'alert' : 'status'} data-testid="clipboard-notice" data-kind={n?.kind}>
          {message}
        </p>
      )}
      <form
        className="clipboard-send"
        onSubmit={(e) => {
          e.preventDefault();
          if (clip.send(draft)) setDraft('');
        }}
      >
        <label htmlFor="clipboard-send-field">{t('clipboard.sendLabel', { host: hostName })}</label>
        <textarea id="clipboard-send-field" data-testid="clipboard-send-field" rows={2} value={draft} onChange={(e) => setDraft(e.target.value)} placeholder={t('clipboard.sendPlaceholder')} />
        <button type="submit" className="secondary" data-testid="clipboard-send" disabled={draft === ''}>
          {t('clipboard.send')}
        </button>
      </form>
      {clip.hostText !== null && (
        <div className="clipboard-host">
          <label htmlFor="clipboard-host-text">{t('clipboard.hostLabel', { host: hostName })}</label>
          <textarea id="clipboard-host-text" ref={hostField} data-testid="clipboard-host-text" rows={2} readOnly value={clip.hostText} />
          <button type="button" className="secondary" data-testid="clipboard-copy" onClick={() => void copyHostText()}>
            {t('clipboard.copy')}
          </button>
        </div>
      )}
      <p className="muted small">{t('clipboard.hint', { limit })}</p>
    </details>
  );
}
