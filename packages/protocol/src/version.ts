/** Version of the conference WebSocket protocol (JSON text frames). Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1;
/** Version of the binary sharing protocol (tiles, cursor, input). */
// 2: tiles may cover a rectangle of whole grid cells; Palette tiles.
export const SHARE_PROTOCOL_VERSION = 3;
