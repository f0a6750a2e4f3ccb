/** Version of the conference WebSocket protocol (JSON text frames). Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1;
/** Version of the binary sharing protocol (tiles, cursor, input). */
// 2: tiles may cover a rectangle of whole grid cells; Palette tiles. 3: Copy tiles.
// 4: a `frame` may carry a hash of the picture (frame verification, a debug mode).
// 5: `clipboard` and `clipboardRefused` frames (text between the controller and the host).
// 6: Video tiles (an H.264 stream over a moving region), the ALT tile flag, `caps` frames.
// 7: `tiles` frames (a relay's snapshot in a few batches), sent only to a viewer whose auth said 7 or later.
export const SHARE_PROTOCOL_VERSION = 7;
/** The oldest sharing protocol a server still accepts (a 6 speaks everything 7 does but `tiles`). */
export const SHARE_MIN_PROTOCOL_VERSION = 6;
/** A viewer whose auth says this version or later may be sent `tiles` frames. */
export const SHARE_TILES_VERSION = 7;
