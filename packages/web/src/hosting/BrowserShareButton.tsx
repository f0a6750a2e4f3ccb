/**
 * "Share screen" from the browser, for the meeting page to place wherever it likes. It owns one
 * BrowserSharer at a time and knows nothing of the conference: the page passes how to get a ticket
 * (`share.start` kind 'browser' + `share.ticket`) and what to do when sharing ends (`share.stop`).
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FramePumpOptions } from './FramePump';
import { BrowserSharer, type SharerState, type SharerStopInfo } from './BrowserSharer';

export interface BrowserShareButtonProps {
  /** The meeting policy lets this participant present, and nobody else is sharing. */
  canShare: boolean;
  /** The conference says this participant is sharing from this browser. */
  sharing: boolean;
  /** Announce the share and return a ticket for the sharing socket. */
  onStart(): Promise<string>;
  /** Sharing ended here (button, the browser's own "Stop sharing", an error): send `share.stop`. */
  onStop(): void;
  /** The binary sharing socket, e.g. `/ws/share`. */
  wsUrl: string;
  pump?: FramePumpOptions;
}

export function BrowserShareButton({ canShare, sharing, onStart, onStop, wsUrl, pump }: BrowserShareButtonProps) {
  const sharer = useRef<BrowserSharer | null>(null);
  const [state, setState] = useState<SharerState>('idle');
  const [problem, setProblem] = useState<string | null>(null);
  const { t } = useTranslation();
  // Latest callbacks, so a sharer made earlier still calls the current ones.
  const stopRef = useRef(onStop);
  stopRef.current = onStop;

  // The conference ended the share (an organizer stopped it, the meeting ended): let go of the capture.
  useEffect(() => {
    if (!sharing && sharer.current?.state === 'streaming') sharer.current.stop(true);
  }, [sharing]);
  useEffect(() => () => sharer.current?.stop(), []);

  const start = () => {
    setProblem(null);
    const s = new BrowserSharer({ wsUrl, pump, onShareStop: () => stopRef.current() });
    sharer.current = s;
    s.on('state', setState);
    s.on('stopped', (info: SharerStopInfo) => {
      if (info.reason === 'error') setProblem(info.message);
      if (sharer.current === s) sharer.current = null;
      setState('idle');
    });
    void s.start(onStart);
  };

  const active = state === 'capturing' || state === 'streaming';
  if (active) {
    return (
      <span className="browser-share">
        <button type="button" className="danger" data-testid="browser-share-stop" data-state={state} onClick={() => sharer.current?.stop()}>
          {state === 'capturing' ? t('browserShare.starting') : t('host.stop')}
        </button>
      </span>
    );
  }
  return (
    <span className="browser-share">
      <button
        type="button"
        data-testid="browser-share-start"
        disabled={!canShare}
        title={t('browserShare.title')}
        onClick={start}
      >
        {t('browserShare.start')}
      </button>
      {problem && (
        <span role="alert" className="error" data-testid="browser-share-error">
          {problem}
        </span>
      )}
    </span>
  );
}
