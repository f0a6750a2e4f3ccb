import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChatMessage } from '@baton/protocol';
import type { CommandError, ConferenceClient } from '../conference/ConferenceClient';

type FileRef = NonNullable<ChatMessage['file']>;

/** "12 kB", "3.4 MB": sizes as people read them, in the page's language. */
export function formatSize(bytes: number, lang?: string): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return new Intl.NumberFormat(lang, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(n);
}

/**
 * A file in a chat message: a download link (an attachment: the browser saves it, it never opens in
 * our origin), its size, and Remove for whoever shared it or an organizer (the server decides).
 */
export function FileAttachment({ client, file, mayRemove }: { client: ConferenceClient; file: FileRef; mayRemove: boolean }) {
  const { t, i18n } = useTranslation();
  if (file.deleted) {
    return (
      <span className="file-attachment removed muted" data-testid="chat-file-removed">
        📎 {file.name} · {t('data.files.removed')}
      </span>
    );
  }
  return (
    <span className="file-attachment" data-testid="chat-file">
      <a href={`/api/files/${encodeURIComponent(file.id)}/${encodeURIComponent(file.name)}`} download={file.name} rel="noopener noreferrer" data-testid="chat-file-link">
        📎 {file.name}
      </a>{' '}
      <span className="muted small">{formatSize(file.size, i18n.language)}</span>
      {mayRemove && (
        <button type="button" className="secondary small-button" onClick={() => client.send({ type: 'file.delete', fileId: file.id })} data-testid="chat-file-remove">
          {t('data.files.remove')}
        </button>
      )}
    </span>
  );
}

/**
 * Share a file with the meeting: a ticket from the conference socket, then the bytes over HTTP with
 * a progress bar (XMLHttpRequest, since fetch reports no upload progress). The chat message that
 * carries the file comes from the server once it is stored.
 */
export function AttachButton({ client, enabled }: { client: ConferenceClient; enabled: boolean }) {
  const { t } = useTranslation();
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number; xhr: XMLHttpRequest } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function upload(file: File) {
    setError(null);
    let ticket: string;
    try {
      const ack = await client.request({ type: 'file.ticket' });
      if (!ack.ticket) throw { message: 'no ticket' };
      ticket = ack.ticket;
    } catch (err) {
      setError((err as CommandError).message);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/files?ticket=${encodeURIComponent(ticket)}&name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => setProgress({ name: file.name, sent: e.loaded, total: e.lengthComputable ? e.total : file.size, xhr });
    xhr.onload = () => {
      setProgress(null);
      if (xhr.status !== 201) {
        try {
          setError((JSON.parse(xhr.responseText) as { error: { message: string } }).error.message);
        } catch {
          setError(t('data.files.failed'));
        }
      }
    };
    xhr.onerror = () => {
      setProgress(null);
      setError(t('data.files.failed'));
    };
    xhr.onabort = () => setProgress(null);
    setProgress({ name: file.name, sent: 0, total: file.size, xhr });
    xhr.send(file);
  }

  return (
    <>
      <input
        ref={input}
        type="file"
        hidden
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void upload(f);
        }}
        data-testid="chat-file-input"
      />
      <button
        type="button"
        className="secondary icon-button"
        aria-label={t('data.files.attach')}
        title={t('data.files.attach')}
        disabled={!enabled || progress !== null}
        onClick={() => input.current?.click()}
        data-testid="chat-attach"
      >
        📎
      </button>
      {(progress || error) && (
        <div className="upload-status" data-testid="upload-status">
          {progress && (
            <>
              <label className="small">
                {t('data.files.uploading', { name: progress.name })}
                <progress max={progress.total} value={progress.sent} data-testid="upload-progress" />
              </label>
              <button type="button" className="secondary small-button" onClick={() => progress.xhr.abort()}>
                {t('data.cancel')}
              </button>
            </>
          )}
          {error && (
            <p className="error small" role="alert" data-testid="upload-error">
              {error}
            </p>
          )}
        </div>
      )}
    </>
  );
}
