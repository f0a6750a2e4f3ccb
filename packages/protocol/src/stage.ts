/**
 * The stage: what the meeting's main area shows for everyone, chosen by whoever may present (the
 * Focus authorizes `stage.set`). Viewers follow it, and may look at another view privately in their
 * own page (that choice never reaches the server). See docs/protocol.md, "Stage".
 *
 * Adding a view: add its name to STAGE_VIEWS, then an entry to the web client's view table
 * (packages/web/src/meeting/stageViews.tsx) and its tab label (i18n `stage.view.<name>`).
 */
import { z } from 'zod';

export const STAGE_VIEWS = ['screen', 'whiteboard', 'slides'] as const;
export const StageView = z.enum(STAGE_VIEWS);
export type StageView = z.infer<typeof StageView>;

export const StageState = z.object({
  view: StageView,
  /** Who chose it (display name), null for the default at the meeting's start. */
  by: z.string().nullable(),
  /** ISO 8601, when it was chosen. */
  at: z.string(),
});
export type StageState = z.infer<typeof StageState>;

/** What a meeting's stage shows before anyone chose: the shared screen. */
export function defaultStage(): StageState {
  return { view: 'screen', by: null, at: new Date().toISOString() };
}
