/**
 * Watches every input device event on the X server (RECORD extension) and reports the ones the
 * agent did not inject itself as `localInput`: the host's own hand on mouse or keyboard, which
 * takes control back from a remote controller.
 *
 * RECORD streams its data on the connection that enabled the context, forever, so that connection
 * is dedicated; a second one creates, disables and frees the context.
 */
import { TypedEmitter } from './TypedEmitter.js';
import { X11Connection } from './X11Connection.js';
import { InjectionLog, type InputEventRecord } from './InjectionLog.js';
import type { RecordExt, RecordReply } from './x11.js';

export type LocalInputMonitorOptions = {
  display?: string;
  /** The injector's log of what it sent. */
  log: InjectionLog;
};

export type LocalInputMonitorEvents = {
  localInput: [InputEventRecord];
  error: [Error];
};

const KEY_PRESS = 2, KEY_RELEASE = 3, BUTTON_PRESS = 4, BUTTON_RELEASE = 5, MOTION_NOTIFY = 6;
const EVENT_SIZE = 32;

export class LocalInputMonitor extends TypedEmitter<LocalInputMonitorEvents> {
  readonly log: InjectionLog;
  #control: X11Connection;
  #data: X11Connection;
  #record: RecordExt;
  #context: number;
  #closed = false;

  private constructor(control: X11Connection, data: X11Connection, record: RecordExt, context: number, log: InjectionLog) {
    super();
    this.#control = control;
    this.#data = data;
    this.#record = record;
    this.#context = context;
    this.log = log;
  }

  static async open(options: LocalInputMonitorOptions): Promise<LocalInputMonitor> {
    const control = await X11Connection.open({ display: options.display });
    let data: X11Connection | undefined;
    try {
      data = await X11Connection.open({ display: options.display });
      const record = await control.extension<RecordExt>('record');
      await data.extension<RecordExt>('record');
      const context = control.client.AllocID();
      record.CreateContext(context, 0, [record.CS.AllClients], [{ deviceEvents: { first: KEY_PRESS, last: MOTION_NOTIFY } }]);
      await control.sync();
      const mon = new LocalInputMonitor(control, data, record, context, options.log);
      await mon.#enable();
      return mon;
    } catch (err) {
      await data?.close();
      await control.close();
      throw err;
    }
  }

  /**
   * RECORD EnableContext, issued here rather than through node-x11's helper, which keeps every
   * reply of the never-ending series in an array (unbounded memory over a long session).
   */
  async #enable(): Promise<void> {
    const X = this.#data.client;
    const major = this.#record.majorOpcode;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      X.seq_num++;
      const b = Buffer.alloc(8);
      b.writeUInt8(major, 0);
      b.writeUInt8(5, 1);
      b.writeUInt16LE(2, 2);
      b.writeUInt32LE(this.#context >>> 0, 4);
      X.pack_stream.put(b);
      const handler: unknown[] = [
        (buf: Buffer, category: number) => {
          handler[3] = undefined; // drop what node-x11 collected from earlier replies
          if (category === this.#record.Category.EndOfData) return undefined;
          if (category === this.#record.Category.StartOfData && !started) {
            started = true;
            resolve();
          } else if (category === this.#record.Category.FromServer) {
            this.#handle({ category, clientSwapped: buf.readUInt8(1) !== 0, xidBase: buf.readUInt32LE(4), data: buf.subarray(24) });
          }
          return 0;
        },
        (err: Error | null) => {
          if (err && !this.#closed) {
            if (!started) reject(err);
            else this.emit('error', err);
          }
          return true;
        },
        true, // multi-reply
      ];
      X.replies[X.seq_num] = handler;
      X.pack_stream.submit(true);
    });
  }

  #handle(reply: RecordReply): void {
    const d = reply.data;
    const le = !reply.clientSwapped;
    for (let off = 0; off + EVENT_SIZE <= d.length; off += EVENT_SIZE) {
      const type = d[off]! & 0x7f;
      const detail = d[off + 1]!;
      const x = le ? d.readInt16LE(off + 20) : d.readInt16BE(off + 20);
      const y = le ? d.readInt16LE(off + 22) : d.readInt16BE(off + 22);
      let e: InputEventRecord;
      switch (type) {
        case KEY_PRESS:
        case KEY_RELEASE:
          e = { kind: 'key', action: type === KEY_PRESS ? 'press' : 'release', detail, x: 0, y: 0 };
          break;
        case BUTTON_PRESS:
        case BUTTON_RELEASE:
          e = { kind: 'button', action: type === BUTTON_PRESS ? 'press' : 'release', detail, x: 0, y: 0 };
          break;
        case MOTION_NOTIFY:
          e = { kind: 'motion', action: 'motion', detail: 0, x, y };
          break;
        default:
          continue;
      }
      if (!this.log.claim(e)) this.emit('localInput', e);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#control.closed) {
      try {
        this.#record.DisableContext(this.#context);
        this.#record.FreeContext(this.#context);
        await this.#control.sync();
      } catch {
        // the server may be gone already
      }
    }
    await this.#data.close();
    await this.#control.close();
    this.removeAllListeners();
  }
}
