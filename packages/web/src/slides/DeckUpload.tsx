import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SLIDE_EXTENSIONS } from '@baton/protocol';
import type { CommandError, ConferenceClient } from '../conference/ConferenceClient';

/**
 * Upload a deck (PDF, pptx, ppt, odp): a slides ticket from the conference socket, then the bytes
 * over HTTP with a progress bar (XMLHttpRequest: fetch reports no upload progress). The server
 * answers once the deck is checked and, for a presentation, converted, so after the bytes are sent
 * the button says so; the deck then reaches every page as `slides.updated`. Refusals show the
 * server's reason (not a PDF, a zip bomb, too large, conversion failed).
 */
export function DeckUpload({ client, compact = false }: { client: ConferenceClient; compact?: boolean }) {
  const { t } = useTranslation();
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<{ phase: 'sending' | 'processing'; sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function upload(file: File) {
    setError(null);
    let ticket: string;
    try {
      const ack = await client.request({ type: 'slides.ticket' });
      if (!ack.ticket) throw { message: t('slides.uploadFailed') };
      ticket = ack.ticket;
    } catch (err) {
      setError((err as CommandError).message);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/slides?ticket=${encodeURIComponent(ticket)}&name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => setState({ phase: 'sending', sent: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.upload.onload = () => setState({ phase: 'processing', sent: file.size, total: file.size });
    xhr.onload = () => {
      setState(null);
      if (xhr.status !== 201) {
        try {
          setError((JSON.parse(xhr.responseText) as { error: { message: string } }).error.message);
        } catch {
          setError(t('slides.uploadFailed'));
        }
      }
    };
    xhr.onerror = () => {
      setState(null);
      setError(t('slides.uploadFailed'));
    };
    setState({ phase: 'sending', sent: 0, total: file.size });
    xhr.send(file);
  }

  return (
    <span className={compact ? 'deck-upload compact' : 'deck-upload'}>
      <input
        ref={input}
        type="file"
        hidden
        accept={SLIDE_EXTENSIONS.map((e) => `.${e}`).join(',')}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void upload(f);
        }}
        data-testid="slides-upload-input"
      />
      <button type="button" className={compact ? 'secondary' : ''} disabled={state !== null} onClick={() => input.current?.click()} data-testid="slides-upload">
        {compact ? t('slides.uploadMore') : t('slides.upload')}
      </button>
      {state && (
        <span className="deck-upload-status" role="status" data-testid="slides-upload-status" data-phase={state.phase}>
          {state.phase === 'sending' ? (
            <progress max={state.total || 1} value={state.sent} aria-label={t('slides.sending')} />
          ) : (
            <span className="muted small">{t('slides.processing')}</span>
          )}
        </span>
      )}
      {error && (
        <span className="deck-upload-error" role="alert" data-testid="slides-upload-error">
          {error}
        </span>
      )}
    </span>
  );
}
