/**
 * The views the stage can show, keyed by their protocol name (`StageView`). The tab row and the
 * stage take their order, labels and content from this table alone: adding a view is one entry
 * here, its name in `STAGE_VIEWS` (protocol/src/stage.ts) and its label in i18n `stageSwitch.view`.
 */
import { lazy, Suspense, useEffect, type ComponentType } from 'react';
import { useTranslation } from 'react-i18next';
import { whiteboardPolicy, type Participant, type StageView } from '@baton/protocol';
import type { ConferenceClient, ConferenceSnapshot } from '../conference/ConferenceClient';
import { Stage } from './Stage';
import type { BoardSync } from '../whiteboard/BoardSync';

// The whiteboard (Yjs) and the slides are their own chunks, loaded when shown: a late joiner's page
// parses only what its first picture needs.
const SlidesView = lazy(() => import('../slides/SlidesView').then((m) => ({ default: m.SlidesView })));
const Whiteboard = lazy(() => import('../whiteboard/Whiteboard').then((m) => ({ default: m.Whiteboard })));

/** What every view gets: the conference, this participant, and whether it leads the stage. */
export interface StageViewProps {
  client: ConferenceClient;
  snapshot: ConferenceSnapshot;
  self: Participant | null;
  signedIn: boolean;
  isOrganizer: boolean;
  /** This participant may present: what it does on the stage, everyone sees (the server checks). */
  leads: boolean;
  /** This page's replica of the meeting's whiteboard (null until the meeting page has one). */
  board: BoardSync | null;
  /** Make the replica now (its code is loaded on demand): the whiteboard is shown, or the screen's first picture is. */
  loadBoard: () => void;
}

export interface StageViewEntry {
  /** A short symbol before the label on the tab. */
  icon: string;
  Component: ComponentType<StageViewProps>;
}

function ScreenView({ client, snapshot, signedIn, isOrganizer, loadBoard }: StageViewProps) {
  return (
    <Stage
      client={client}
      share={snapshot.share}
      shareSources={snapshot.shareSources}
      roster={snapshot.roster}
      selfId={snapshot.selfId}
      policy={snapshot.conference!.policy}
      signedIn={signedIn}
      isOrganizer={isOrganizer}
      annotations={snapshot.annotations}
      onFirstPicture={loadBoard}
    />
  );
}

/** A view whose content is not built yet (or has nothing to show): a quiet message on the stage. */
export function EmptyStageView({ title, hint, testId }: { title: string; hint: string; testId: string }) {
  return (
    <section className="stage empty" data-testid={testId} aria-label={title}>
      <div className="stage-message">
        <p className="stage-title">{title}</p>
        <p className="muted small">{hint}</p>
      </div>
    </section>
  );
}

function WhiteboardView({ board, snapshot, self, loadBoard }: StageViewProps) {
  const { t } = useTranslation();
  useEffect(() => {
    if (!board) loadBoard();
  }, [board, loadBoard]);
  if (!board) return <EmptyStageView testId="whiteboard-empty" title={t('stageSwitch.whiteboardEmpty')} hint={t('stageSwitch.whiteboardEmptyHint')} />;
  // What the server allows (it checks every update anyway): the page offers the tools only then.
  const mayDraw = !!self && (whiteboardPolicy(snapshot.conference!.policy) === 'anyone' || self.role !== 'attendee');
  return (
    <Suspense fallback={<ChunkLoading />}>
      <Whiteboard board={board} mayDraw={mayDraw} />
    </Suspense>
  );
}

function SlidesStageView(props: StageViewProps) {
  return (
    <Suspense fallback={<ChunkLoading />}>
      <SlidesView {...props} />
    </Suspense>
  );
}

/** The stage while a view's code loads (a moment, once per page). */
function ChunkLoading() {
  return <section className="stage empty" aria-busy="true" />;
}

export const STAGE_VIEW_TABLE: Record<StageView, StageViewEntry> = {
  screen: { icon: '▭', Component: ScreenView },
  whiteboard: { icon: '✎', Component: WhiteboardView },
  slides: { icon: '▤', Component: SlidesStageView },
};
