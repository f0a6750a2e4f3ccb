/** Version of the conference WebSocket protocol (JSON text frames). Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1;
/** Version of the binary sharing protocol (tiles, cursor, input). */
// 2: tiles may cover a rectangle of whole grid cells; Palette tiles. 3: Copy tiles.
// 4: a `frame` may carry a hash of the picture (frame verification, a debug mode).
// 5: `clipboard` and `clipboardRefused` frames (text between the controller and the host).
// 6: Video tiles (an H.264 stream over a moving region), the ALT tile flag, `caps` frames.
export const SHARE_PROTOCOL_VERSION = 6;
