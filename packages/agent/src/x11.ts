/**
 * Types for the parts of the `x11` package (node-x11, pure JS, no typings of its own) the agent uses,
 * and the loader. Callbacks that return true tell node-x11 an error was handled (no 'error' event).
 */
import { createRequire } from 'node:module';

export type XCallback<T> = (err: XError | null, result: T) => boolean | void;

export interface XError extends Error {
  error?: number;
  seq?: number;
  badParam?: number;
  majorOpcode?: number;
  minorOpcode?: number;
}

export interface XVisual {
  vid: number;
  class: number;
  red_mask: number;
  green_mask: number;
  blue_mask: number;
}

export interface XScreen {
  root: number;
  pixel_width: number;
  pixel_height: number;
  root_depth: number;
  root_visual: number;
  white_pixel: number;
  black_pixel: number;
  depths: Record<number, Record<number, XVisual>>;
}

export interface XDisplay {
  screen: XScreen[];
  min_keycode: number;
  max_keycode: number;
  image_byte_order: number;
  format: Record<number, { bits_per_pixel: number; scanline_pad: number }>;
  isLocalSocket: boolean;
  /** The bits of an XID that the client chooses; the rest (the resource-id base) names the client. */
  resource_mask: number;
  resource_base: number;
  vendor: string;
}

/** An X event as node-x11 parses it: core fields plus whatever the extension parser adds. */
export interface XEvent {
  type: number;
  name?: string;
  seq: number;
  [field: string]: unknown;
}

export interface XPackStream {
  put(b: Buffer): unknown;
  submit(expectsReply?: boolean): unknown;
}

export interface XExtensionBase {
  majorOpcode: number;
  firstEvent: number;
  firstError: number;
  present: boolean;
}

export interface XClient {
  display: XDisplay;
  seq_num: number;
  replies: Record<number, unknown[]>;
  pack_stream: XPackStream;
  AllocID(): number;
  ReleaseID(id: number): void;
  require<T = XExtensionBase>(name: string, cb: (err: Error | null, ext: T) => void): void;
  sync(): Promise<void>;
  close(cb?: () => void): void;
  on(event: 'event', listener: (ev: XEvent) => void): void;
  on(event: 'error', listener: (err: XError) => void): void;
  on(event: 'end' | 'close', listener: () => void): void;
  removeAllListeners(event?: string): void;
  GetImage(format: number, drawable: number, x: number, y: number, w: number, h: number, planeMask: number, cb: XCallback<{ depth: number; visualId: number; data: Buffer }>): void;
  GetGeometry(drawable: number, cb: XCallback<{ xPos: number; yPos: number; width: number; height: number; borderWidth: number; depth: number }>): void;
  QueryPointer(wid: number, cb: XCallback<{ root: number; child: number; rootX: number; rootY: number; sameScreen: number; keyMask: number }>): void;
  GetKeyboardMapping(first: number, count: number, cb: XCallback<number[][]>): void;
  ChangeKeyboardMapping(first: number, keysymsPerKeycode: number, keysyms: number[]): void;
  GetModifierMapping(cb: XCallback<number[][]>): void;
  GetAtomName(atom: number, cb: XCallback<string>): void;
  InternAtom(onlyIfExists: boolean, name: string, cb: XCallback<number>): void;
  CreateColormap(cmid: number, wid: number, visual: number, alloc: number): void;
  CreateWindow(id: number, parent: number, x: number, y: number, w: number, h: number, border: number, depth: number, cls: number, visual: number, values: Record<string, number>): void;
  ChangeWindowAttributes(wid: number, values: Record<string, number>): void;
  MapWindow(wid: number): void;
  UnmapWindow(wid: number): void;
  DestroyWindow(wid: number): void;
  ConfigureWindow(wid: number, values: Record<string, number>): void;
  CreateGC(gc: number, drawable: number, values: Record<string, number>): void;
  ChangeGC(gc: number, values: Record<string, number>): void;
  FreeGC(gc: number): void;
  PolyFillRectangle(drawable: number, gc: number, coords: number[]): void;
  PutImage(format: number, drawable: number, gc: number, w: number, h: number, x: number, y: number, leftPad: number, depth: number, data: Buffer): void;
  SetInputFocus(wid: number, revertTo: number): void;
  GrabServer(): void;
  UngrabServer(): void;
  WarpPointer(srcWin: number, dstWin: number, srcX: number, srcY: number, srcW: number, srcH: number, dstX: number, dstY: number): void;
  QueryTree(wid: number, cb: XCallback<{ root: number; parent: number; children: number[] }>): void;
  GetWindowAttributes(wid: number, cb: XCallback<{ mapState: number; overrideRedirect: number; klass: number; visual: number }>): void;
  GetProperty(del: number, wid: number, name: number, type: number, longOffset: number, longLength: number, cb: XCallback<{ type: number; format: number; bytesAfter: number; data: Buffer }>): void;
  ChangeProperty(mode: number, wid: number, name: number, type: number, units: number, data: Buffer | string): void;
  TranslateCoordinates(src: number, dst: number, x: number, y: number, cb: XCallback<{ child: number; destX: number; destY: number }>): void;
  FreePixmap(pixmap: number): void;
  DeleteProperty(wid: number, property: number): void;
  SetSelectionOwner(owner: number, selection: number, time: number): void;
  GetSelectionOwner(selection: number, cb: XCallback<number>): void;
  ConvertSelection(requestor: number, selection: number, target: number, property: number, time: number): void;
  /** `event`: an event object as node-x11 parses them (name plus fields), packed to its 32 bytes. */
  SendEvent(destination: number, propagate: number, eventMask: number, event: Record<string, unknown>): void;
  GrabPointer(wid: number, ownerEvents: number, mask: number, pointerMode: number, keybMode: number, confineTo: number, cursor: number, time: number, cb: XCallback<unknown>): void;
  UngrabPointer(time: number): void;
}

export interface CompositeExt extends XExtensionBase {
  Redirect: { Automatic: 0; Manual: 1 };
  RedirectWindow(window: number, updateType: number): void;
  UnredirectWindow(window: number): void;
  RedirectSubwindows(window: number, updateType: number): void;
  UnredirectSubwindows(window: number): void;
  NameWindowPixmap(window: number, pixmap: number): void;
}

/** X-Resource 1.2 (node-x11's `res`): which client owns an XID, and that client's process id when it is local. */
export interface ResExt extends XExtensionBase {
  major: number;
  minor: number;
  ClientIdMask: { ClientXID: 1; LocalClientPID: 2 };
  /** `client`: any XID of the client; `value` of a LocalClientPID answer: [pid]. */
  QueryClientIds(specs: Array<{ client: number; mask: number }>, cb: XCallback<Array<{ client: number; mask: number; value: number[] }>>): void;
}

export interface ShmSegment {
  shmseg: number;
  size: number;
  buffer: Buffer;
  /** The buffer is the segment itself (a mapping), not a copy read back after each request. */
  zeroCopy?: boolean;
  getImage(drawable: number, x: number, y: number, w: number, h: number, planeMask: number, format: number, offset: number, cb: XCallback<{ depth: number; visual: number; size: number }>): void;
  detach(cb?: () => void): void;
}

export interface ShmExt extends XExtensionBase {
  createSegment(size: number, cb: (err: Error | null, seg: ShmSegment) => void): void;
  usable(cb: (err: Error | null, ok: boolean) => void): void;
}

export interface DamageExt extends XExtensionBase {
  ReportLevel: { RawRectangles: 0; DeltaRectangles: 1; BoundingBox: 2; NonEmpty: 3 };
  Create(damage: number, drawable: number, level: number): void;
  Destroy(damage: number): void;
  Subtract(damage: number, repair: number, parts: number): void;
}

export interface FixesRect { x: number; y: number; width: number; height: number }

export interface FixesExt extends XExtensionBase {
  CreateRegion(region: number, rects: FixesRect[]): void;
  DestroyRegion(region: number): void;
  FetchRegion(region: number, cb: XCallback<{ extents: FixesRect; rectangles: FixesRect[] }>): void;
  SelectCursorInput(window: number, mask: number): void;
  GetCursorImage(cb: XCallback<{ x: number; y: number; width: number; height: number; xhot: number; yhot: number; cursorSerial: number; cursorImage: Buffer }>): void;
  CursorNotifyMask: { DisplayCursor: 1 };
}

export interface FixesSelectionExt extends XExtensionBase {
  SelectSelectionInput(window: number, selection: number, mask: number): void;
}

export interface RandrExt extends XExtensionBase {
  major_version: number;
  minor_version: number;
  NotifyMask: { ScreenChange: 1; CrtcChange: 2; OutputChange: 4; OutputProperty: 8; All: 15 };
  SelectInput(win: number, mask: number): void;
  GetScreenResourcesCurrent(win: number, cb: XCallback<{ crtcs: number[]; outputs: number[]; config_timestamp: number }>): void;
  GetCrtcInfo(crtc: number, configTs: number, cb: XCallback<{ x: number; y: number; width: number; height: number; mode: number; output: number[] }>): void;
  GetOutputInfo(output: number, ts: number, cb: XCallback<{ name: string; crtc: number; connection: number }>): void;
}

export interface XTestExt extends XExtensionBase {
  KeyPress: 2;
  KeyRelease: 3;
  ButtonPress: 4;
  ButtonRelease: 5;
  MotionNotify: 6;
  FakeInput(type: number, detail: number, time: number, wid: number, x: number, y: number): void;
}

export interface RecordRange8 { first: number; last: number }
export interface RecordRange {
  deviceEvents?: RecordRange8;
  deliveredEvents?: RecordRange8;
}
export interface RecordReply {
  category: number;
  clientSwapped: boolean;
  xidBase: number;
  data: Buffer;
}
export interface RecordExt extends XExtensionBase {
  CS: { CurrentClients: 1; FutureClients: 2; AllClients: 3 };
  Category: { FromServer: 0; FromClient: 1; ClientStarted: 2; ClientDied: 3; StartOfData: 4; EndOfData: 5 };
  CreateContext(ctx: number, elementHeader: number, clientSpecs: number[], ranges: RecordRange[]): void;
  EnableContext(ctx: number, onData: (reply: RecordReply) => void, cb: XCallback<unknown>): void;
  DisableContext(ctx: number): void;
  FreeContext(ctx: number): void;
}

export interface X11Module {
  createClient(options: { display?: string; shm?: object; bufferRequests?: boolean | { flushOnReply?: boolean } }, cb: (err: Error | null, display: XDisplay & { client: XClient }) => void): XClient;
  eventMask: Record<string, number>;
}

const require = createRequire(import.meta.url);
let loaded: X11Module | undefined;

/** Load node-x11 (CommonJS) lazily, so importing the agent library costs nothing until X is used. */
export function loadX11(): X11Module {
  loaded ??= require('x11') as X11Module;
  return loaded;
}

/** Turn a node-x11 callback request into a promise; errors reject (and count as handled). */
export function xcall<T>(fn: (cb: XCallback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, result) => {
      if (err) reject(err);
      else resolve(result);
      return true;
    });
  });
}
