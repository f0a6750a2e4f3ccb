import type { Surface } from '@baton/protocol';

/**
 * The hook for annotation on slides (issue 14 item 1 on item 3): a layer exactly over the drawn
 * page, `width` x `height` CSS pixels, for the surface `{kind:'slide', deckId, page}`. The annotation
 * overlay (marks anchored to this surface, in page fractions) renders here once it exists in the web
 * client; until then the layer is empty and lets pointer events through to the text layer.
 */
export function SlideOverlay({ surface, width, height }: { surface: Extract<Surface, { kind: 'slide' }>; width: number; height: number }) {
  return <div className="slide-overlay" data-testid="slide-overlay" data-deck={surface.deckId} data-page={surface.page} data-width={width} data-height={height} />;
}
