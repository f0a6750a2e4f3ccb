/**
 * /recordings/:id — replay a recording: the shared screen on a canvas (ReplayPlayer, through the live
 * viewer's ScreenView), play/pause/seek, and the chat as it stood at that moment. Whoever may manage it
 * (the organizer, or whoever started it) also shares it with users, exports it to a video file (progress
 * shown while the server works) and deletes it. The server decides who sees what.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import type { ExportFormat, RecordingIndex, RecordingResource } from '@baton/protocol';
import { ApiRequestError, api, errorText } from '../api/client';
import { useSession } from '../session/SessionContext';
import { TopBar } from '../ui/TopBar';
import { ReplayPlayer } from '../recording/ReplayPlayer';
import { ReplayAudio } from '../recording/ReplayAudio';
import { formatDate } from './Dashboard';
import { formatDuration, formatSize } from './RecordingList';

type Load = { kind: 'loading' } | { kind: 'ok'; index: RecordingIndex } | { kind: 'missing' } | { kind: 'error'; message: string };

export function RecordingPage() {
  const { id = '' } = useParams();
  const { user } = useSession();
  const { t } = useTranslation();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });

  useEffect(() => {
    if (user === undefined) return;
    let live = true;
    api.recordingIndex(id).then(
      (index) => live && setLoad({ kind: 'ok', index }),
      (e: unknown) => {
        if (!live) return;
        if (e instanceof ApiRequestError && (e.status === 404 || e.status === 401)) setLoad({ kind: 'missing' });
        else setLoad({ kind: 'error', message: errorText(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [id, user]);

  return (
    <div className="page">
      <TopBar />
      <main id="main" tabIndex={-1}>
        {load.kind === 'loading' && (
          <p className="muted" role="status">
            {t('recording.loading')}
          </p>
        )}
        {load.kind === 'missing' && (
          <div className="card" data-testid="recording-missing">
            <p>{t('recording.notFound')}</p>
            <Link to="/">{t('recording.back')}</Link>
          </div>
        )}
        {load.kind === 'error' && (
          <p className="error" role="alert">
            {load.message}
          </p>
        )}
        {load.kind === 'ok' && <Replay index={load.index} />}
      </main>
    </div>
  );
}

function Replay({ index }: { index: RecordingIndex }) {
  const { t } = useTranslation();
  const [rec, setRec] = useState<RecordingResource>(index.recording);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cursorRef = useRef<HTMLCanvasElement>(null);
  const playerRef = useRef<ReplayPlayer | null>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const audioMissing = index.events.find((e) => e.type === 'audio.unavailable');
  const [time, setTime] = useState(0);
  const [blank, setBlank] = useState(true);
  const [playing, setPlaying] = useState(false);
  const [seeked, setSeeked] = useState<number | null>(null);
  const duration = rec.durationMs;

  useEffect(() => {
    const player = new ReplayPlayer({
      canvas: canvasRef.current!,
      cursorCanvas: cursorRef.current!,
      seekPoints: index.seekPoints,
      screenBytes: index.screenBytes,
      durationMs: index.recording.durationMs,
      fetchRange: (from, to) => api.recordingScreen(index.recording.id, from, to),
    });
    playerRef.current = player;
    player.on('time', ({ t, blank }) => {
      setTime(t);
      setBlank(blank);
    });
    player.on('playing', setPlaying);
    player.on('seeked', ({ t }) => setSeeked(t));
    // The audio track follows the player's clock (play, pause, seek).
    const sync = audioRef.current ? new ReplayAudio({ player, audio: audioRef.current }) : null;
    void player.seek(0);
    return () => {
      sync?.close();
      player.destroy();
      playerRef.current = null;
    };
  }, [index]);

  const chat = index.events.flatMap((e) => (e.type === 'chat' && e.t <= time ? [e] : []));
  const chatEnd = useRef<HTMLLIElement>(null);
  useEffect(() => {
    chatEnd.current?.scrollIntoView({ block: 'nearest' });
  }, [chat.length]);

  return (
    <div data-testid="replay" data-time={Math.round(time)} data-seeked={seeked ?? ''} data-blank={blank}>
      <h1>{t('recording.title', { subject: rec.subject })}</h1>
      <p className="muted small">
        {t('recording.details', { when: formatDate(rec.startedAt), duration: formatDuration(duration), size: formatSize(rec.bytes) })}
        {rec.status === 'failed' && rec.note && <> · {t('recording.statusFailed', { note: rec.note })}</>}
      </p>
      <div className="replay">
        <section>
          <div className="replay-screen">
            <canvas ref={canvasRef} data-testid="replay-canvas" hidden={blank} />
            <canvas ref={cursorRef} hidden style={{ display: 'none' }} />
            {blank && <p className="replay-blank">{t('recording.nobodySharing')}</p>}
          </div>
          <div className="replay-controls">
            <button
              type="button"
              className="primary"
              data-testid="replay-play"
              onClick={() => (playing ? playerRef.current?.pause() : playerRef.current?.play())}
            >
              {playing ? t('recording.pause') : t('recording.play')}
            </button>
            <input
              type="range"
              min={0}
              max={Math.max(1, Math.round(duration))}
              step={1}
              value={Math.round(time)}
              aria-label={t('recording.seek')}
              data-testid="replay-seek"
              onChange={(e) => {
                setSeeked(null);
                void playerRef.current?.seek(Number(e.target.value));
              }}
            />
            <span className="small" data-testid="replay-clock">
              {formatDuration(time)} / {formatDuration(duration)}
            </span>
          </div>
          {rec.hasAudio ? (
            <audio ref={audioRef} src={`/api/recordings/${encodeURIComponent(rec.id)}/audio`} preload="auto" data-testid="replay-audio" aria-label={t('recording.audio')} />
          ) : (
            <p className="muted small" data-testid="replay-no-audio">
              {audioMissing?.type === 'audio.unavailable' ? t('recording.audioUnavailable', { reason: audioMissing.reason }) : t('recording.noAudio')}
            </p>
          )}
          {rec.manage && <Manage rec={rec} onChange={setRec} />}
        </section>
        <aside className="card replay-chat" aria-labelledby="replay-chat-title">
          <h2 id="replay-chat-title">{t('recording.chat')}</h2>
          {chat.length === 0 ? (
            <p className="muted small">{t('recording.noChat')}</p>
          ) : (
            <ul className="plain" data-testid="replay-chat">
              {chat.map((e, i) => (
                <li key={i} ref={i === chat.length - 1 ? chatEnd : undefined}>
                  <strong>{e.message.senderName}</strong> <span className="muted small">{formatDuration(e.t)}</span>
                  <div className="chat-text">{e.message.text}</div>
                </li>
              ))}
            </ul>
          )}
        </aside>
      </div>
    </div>
  );
}

function Manage({ rec, onChange }: { rec: RecordingResource; onChange(r: RecordingResource): void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [names, setNames] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const running = rec.exports.some((e) => e.status === 'running');

  // While an export runs, its progress is polled.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      api.recording(rec.id).then(onChange, () => {});
    }, 1000);
    return () => clearInterval(timer);
  }, [running, rec.id, onChange]);

  async function share(e: FormEvent) {
    e.preventDefault();
    const users = names.split(/[\s,]+/).filter(Boolean);
    if (users.length === 0) return;
    try {
      onChange(await api.shareRecording(rec.id, users));
      setNames('');
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function unshare(name: string) {
    try {
      await api.unshareRecording(rec.id, name);
      onChange(await api.recording(rec.id));
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function exportAs(format: ExportFormat) {
    try {
      await api.startExport(rec.id, format);
      onChange(await api.recording(rec.id));
    } catch (err) {
      setError(errorText(err));
    }
  }
  async function remove() {
    try {
      await api.deleteRecording(rec.id);
      navigate('/');
    } catch (err) {
      setError(errorText(err));
    }
  }

  const label = (f: ExportFormat) => (f === 'webm' ? t('recording.exportWebm') : t('recording.exportMkv'));
  return (
    <div className="card" data-testid="recording-manage">
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form className="form inline" onSubmit={share}>
        <label>
          {t('recording.shareLabel')}
          <input value={names} onChange={(e) => setNames(e.target.value)} data-testid="recording-share-users" autoComplete="off" />
        </label>
        <button type="submit" className="secondary" data-testid="recording-share">
          {t('recording.shareSubmit')}
        </button>
      </form>
      {rec.sharedWith.length === 0 ? (
        <p className="muted small">{t('recording.notShared')}</p>
      ) : (
        <p className="small" data-testid="recording-shared-with">
          {t('recording.sharedWith', { names: '' })}
          {rec.sharedWith.map((n) => (
            <button key={n} type="button" className="link" onClick={() => void unshare(n)} aria-label={t('recording.unshare', { name: n })}>
              {n} ×
            </button>
          ))}
        </p>
      )}
      <div className="actions">
        <span>{t('recording.export')}:</span>
        {(['webm', 'mkv'] as const).map((f) => {
          const state = rec.exports.find((e) => e.format === f);
          if (state?.status === 'running') {
            return (
              <span key={f} role="status" data-testid={`export-progress-${f}`}>
                {t('recording.exporting', { format: label(f), percent: Math.floor(state.progress * 100) })}
                <progress max={1} value={state.progress} />
              </span>
            );
          }
          if (state?.status === 'done') {
            return (
              <a key={f} className="button secondary" href={`/api/recordings/${encodeURIComponent(rec.id)}/exports/${f}/file`} download data-testid={`export-download-${f}`}>
                {t('recording.exportDone', { format: label(f), size: formatSize(state.bytes ?? 0) })}
              </a>
            );
          }
          return (
            <span key={f}>
              {state?.status === 'failed' && <span className="error small">{t('recording.exportFailed', { format: label(f), error: state.error ?? '' })} </span>}
              <button type="button" className="secondary" onClick={() => void exportAs(f)} data-testid={`export-${f}`}>
                {label(f)}
              </button>
            </span>
          );
        })}
      </div>
      <div className="actions">
        {confirmDelete ? (
          <>
            <span>{t('recording.deleteConfirm')}</span>
            <button type="button" className="danger" onClick={() => void remove()} data-testid="recording-delete-confirm">
              {t('recording.delete')}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
              {t('shortcuts.close')}
            </button>
          </>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirmDelete(true)} data-testid="recording-delete">
            {t('recording.delete')}
          </button>
        )}
      </div>
    </div>
  );
}
