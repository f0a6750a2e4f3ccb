/** @baton/agent: the native host agent (X11 capture, tiles, cursor, input injection, local consent). */
export { X11Connection, X11ConnectionError, type X11ConnectionOptions, type X11ConnectionEvents } from './X11Connection.js';
export { listMonitors, chooseArea, MonitorNotFoundError, type Rect, type MonitorInfo, type SharedArea } from './monitors.js';
export { ScreenCapture, UnsupportedVisualError, clipRects, tileBands, type FrameBuffer, type CaptureResult, type ScreenCaptureOptions, type ScreenCaptureEvents } from './ScreenCapture.js';
export { TileEncoder, type TileMessage, type TileEncoderOptions, type EncodeStats } from './TileEncoder.js';
export { classifyTile, extractRgb, encodeZRgb, encodePng, encodeJpeg, type TileClass } from './tileCodecs.js';
export { FlowControl, type FlowControlOptions, type FlowControlEvents } from './FlowControl.js';
export { CursorWatcher, toShape, type CursorShape, type CursorPos, type CursorWatcherOptions, type CursorWatcherEvents } from './CursorWatcher.js';
export { InputInjector, type InputInjectorOptions } from './InputInjector.js';
export { InjectionLog, type InputEventRecord, type InputKind, type InjectionLogOptions } from './InjectionLog.js';
export { LocalInputMonitor, type LocalInputMonitorOptions, type LocalInputMonitorEvents } from './LocalInputMonitor.js';
export { browserKeyToKeysym, charToKeysym } from './keysyms.js';
export { ConsentPrompt, CONTROL_MODES, type ControlMode, type ControlRequest, type ConsentPromptOptions } from './ConsentPrompt.js';
export type { ShareTransport } from './ShareTransport.js';
export { WebSocketTransport } from './WebSocketTransport.js';
export { ConferenceClient, ConferenceRequestError, ConferenceClosedError, type ConferenceClientOptions, type ConferenceClientEvents, type ClientCommand } from './ConferenceClient.js';
export { ShareSession, type ShareSessionOptions, type ShareSessionEvents, type PassStats } from './ShareSession.js';
export { ShareClient, MeetingUrlError, meetingEndpoints, type ShareClientOptions, type ShareClientEvents } from './ShareClient.js';
export { TypedEmitter, type EventMap } from './TypedEmitter.js';
