import { Emitter } from '../conference/Emitter';

/** What a notification is about; pages style and filter by it. */
export type NotificationKind = 'chat' | 'lobby' | 'control' | 'share' | 'hand' | 'notice' | 'info';

export interface Toast {
  id: number;
  kind: NotificationKind;
  text: string;
}

export interface NotifierOptions {
  /** Where the sound preference is kept (localStorage in the page). */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** How long a toast stays (ms). */
  ttlMs?: number;
  /** The most toasts shown at once; older ones go first. */
  max?: number;
}

export interface NotifierEvents {
  change: readonly Toast[];
  sound: boolean;
}

const SOUND_KEY = 'baton.notifySound';

/**
 * The meeting's notifications: short-lived toasts (rendered in an aria-live region by <Toasts>) and
 * an optional chime. Anything in the page may call notify(); the sound is off unless the user turns
 * it on, since meetings usually have audio of their own.
 */
export class Notifier extends Emitter<NotifierEvents> {
  private list: Toast[] = [];
  private nextId = 1;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private soundOn: boolean;
  private audio: AudioContext | null = null;

  constructor(private readonly opts: NotifierOptions = {}) {
    super();
    let stored: string | null = null;
    try {
      stored = opts.storage?.getItem(SOUND_KEY) ?? null;
    } catch {
      /* no storage: the default stands */
    }
    this.soundOn = stored === 'on';
  }

  get toasts(): readonly Toast[] {
    return this.list;
  }

  get sound(): boolean {
    return this.soundOn;
  }

  notify(kind: NotificationKind, text: string): void {
    const toast: Toast = { id: this.nextId++, kind, text };
    const max = this.opts.max ?? 4;
    const dropped = this.list.slice(0, Math.max(0, this.list.length - max + 1));
    for (const t of dropped) this.clearTimer(t.id);
    this.list = [...this.list.slice(dropped.length), toast];
    this.timers.set(
      toast.id,
      setTimeout(() => this.dismiss(toast.id), this.opts.ttlMs ?? 8000),
    );
    this.emit('change', this.list);
    if (this.soundOn) this.chime();
  }

  dismiss(id: number): void {
    this.clearTimer(id);
    const next = this.list.filter((t) => t.id !== id);
    if (next.length === this.list.length) return;
    this.list = next;
    this.emit('change', this.list);
  }

  /** Turned on from a click, so the AudioContext may start (browsers need a user gesture). */
  setSound(on: boolean): void {
    this.soundOn = on;
    try {
      this.opts.storage?.setItem(SOUND_KEY, on ? 'on' : 'off');
    } catch {
      /* kept for this page only */
    }
    if (on) this.chime();
    this.emit('sound', on);
  }

  /**
   * Drops the toasts, their timers and the audio context. Idempotent; subscribers unsubscribe
   * themselves (React's StrictMode remounts and may use the same Notifier again).
   */
  close(): void {
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
    if (this.list.length) {
      this.list = [];
      this.emit('change', this.list);
    }
    void this.audio?.close().catch(() => {});
    this.audio = null;
  }

  private clearTimer(id: number): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** Two short soft tones, made on the spot (no audio file to fetch). */
  private chime(): void {
    try {
      const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
      if (!Ctx) return;
      this.audio ??= new Ctx();
      const ctx = this.audio;
      if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
      const t0 = ctx.currentTime;
      [660, 880].forEach((freq, i) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = freq;
        const start = t0 + i * 0.12;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.08, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + 0.2);
      });
    } catch {
      /* sound is a nicety */
    }
  }
}
