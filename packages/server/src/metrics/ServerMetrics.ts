/**
 * The server's Prometheus metrics (prom-client), served at /metrics (http/metricsRoute.ts).
 * Live numbers (conferences, participants, shares, viewers, the sharing relays' counters) are read
 * from the live objects when scraped (collect callbacks); only events with no live object to ask
 * (socket bytes, chat messages, store calls) are counted where they happen. A sharing relay's
 * counters are folded into a running total when it closes, so the *_total series never go back.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FocusRegistry } from '../focus/FocusRegistry.js';
import type { Focus } from '../focus/Focus.js';
import type { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';
import type { AppShareServer, AppShareStats } from '../sharing/AppShareServer.js';
import type { Store } from '../store/Store.js';

export interface ServerMetricsOptions {
  /** Metric name prefix (default `baton_`). */
  prefix?: string;
}

/** Counters of the sharing relays that only grow; summed over closed and live relays. */
const SHARE_COUNTERS = {
  framesIn: ['share_frames_in_total', 'Screen updates (frames) received from sharing hosts'],
  tilesSkipped: ['share_tiles_skipped_total', 'Tile versions a slow viewer never got because a newer one replaced them (dropped for slow viewers)'],
  framesReplayed: ['share_frames_replayed_total', 'Frames replayed to a viewer that had missed them'],
  hostOverruns: ['share_host_overruns_total', 'Times a sharing host ran ahead of the relay\'s acknowledgement window'],
  refreshesAsked: ['share_refreshes_asked_total', 'Tiles whose pixels the relay had to ask the host for again'],
  inputForwarded: ['share_input_forwarded_total', 'Remote-control input events forwarded to the host'],
  inputDropped: ['share_input_dropped_total', 'Remote-control input events dropped (not the controller, or over the limit)'],
  clipboardForwarded: ['share_clipboard_forwarded_total', 'Clipboard texts forwarded between the controller and the host'],
  clipboardDropped: ['share_clipboard_dropped_total', 'Clipboard texts dropped (from a viewer not in control, or from the host with nobody in control)'],
} as const satisfies Partial<Record<keyof AppShareStats, readonly [string, string]>>;
type ShareCounter = keyof typeof SHARE_COUNTERS;
type ShareTotal = ShareCounter | 'bytesIn' | 'bytesOut';

export class ServerMetrics {
  readonly register = new Registry();
  readonly #socketBytes: Counter<'media' | 'direction'>;
  readonly #chat: Counter<'kind'>;
  readonly #storeSeconds: Histogram<'op' | 'outcome'>;
  readonly #liveShares = new Set<AppShareServer>();
  /** Totals of relays that have closed. */
  readonly #closedShares: Record<ShareTotal, number> = {
    framesIn: 0, tilesSkipped: 0, framesReplayed: 0, hostOverruns: 0, refreshesAsked: 0, inputForwarded: 0, inputDropped: 0, clipboardForwarded: 0, clipboardDropped: 0, bytesIn: 0, bytesOut: 0,
  };
  #registry: FocusRegistry | null = null;

  constructor(opts: ServerMetricsOptions = {}) {
    const p = opts.prefix ?? 'baton_';
    const registers = [this.register];
    // Process CPU and memory, GC, and the event loop lag (nodejs_eventloop_lag_seconds and its percentiles).
    collectDefaultMetrics({ register: this.register });
    const self = this;
    const live = () => this.#registry?.live() ?? [];
    const shareStats = () => [...this.#liveShares].map((s) => s.stats());

    new Gauge({ name: `${p}conferences`, help: 'Live conferences', registers, collect() { this.set(live().length); } });
    new Gauge({ name: `${p}participants`, help: 'Participants in live conferences (lobby and grace seats included)', registers, collect() {
      this.set(live().reduce((n, f) => n + f.participantCount, 0));
    } });
    new Gauge({ name: `${p}shares`, help: 'Screens being shared (live sharing relays)', registers, collect() { this.set(self.#liveShares.size); } });
    new Gauge({ name: `${p}share_viewers`, help: 'Viewers connected to the sharing relays', registers, collect() {
      this.set(shareStats().reduce((n, s) => n + s.viewers, 0));
    } });
    new Gauge({ name: `${p}share_catch_ups`, help: 'Slow or late viewers being sent a frame a slice at a time', registers, collect() {
      this.set(shareStats().reduce((n, s) => n + s.catchUps, 0));
    } });
    new Gauge({ name: `${p}share_store_bytes`, help: 'Bytes of screen state held by the sharing relays', registers, collect() {
      this.set(shareStats().reduce((n, s) => n + s.storeBytes, 0));
    } });

    this.#socketBytes = new Counter({
      name: `${p}media_bytes_total`,
      help: 'Bytes received (in) and sent (out) per media type: sharing (the relay) and conference (the signalling socket)',
      labelNames: ['media', 'direction'],
      registers,
      collect() {
        // The sharing relays' bytes come from their own stats; conference bytes are counted as sent.
        const stats = shareStats();
        const sum = (k: 'bytesIn' | 'bytesOut') => self.#closedShares[k] + stats.reduce((n, s) => n + s[k], 0);
        for (const [direction, key] of [['in', 'bytesIn'], ['out', 'bytesOut']] as const) {
          this.remove('sharing', direction);
          this.labels('sharing', direction).inc(sum(key));
        }
      },
    });
    this.#socketBytes.labels('conference', 'in').inc(0);
    this.#socketBytes.labels('conference', 'out').inc(0);

    for (const [key, [name, help]] of Object.entries(SHARE_COUNTERS) as [ShareCounter, readonly [string, string]][]) {
      new Counter({ name: `${p}${name}`, help, registers, collect() {
        this.reset();
        this.inc(self.#closedShares[key] + shareStats().reduce((n, s) => n + s[key], 0));
      } });
    }

    this.#chat = new Counter({ name: `${p}chat_messages_total`, help: 'Chat messages accepted and delivered', labelNames: ['kind'], registers });
    this.#chat.labels('public').inc(0);
    this.#chat.labels('private').inc(0);
    this.#storeSeconds = new Histogram({
      name: `${p}store_seconds`,
      help: 'Time taken by store (database) calls, by call',
      labelNames: ['op', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  /** Read the live conferences and sharing relays from now on. */
  watch(opts: { registry: FocusRegistry; factory: ConferencingServerFactory }): void {
    this.#registry = opts.registry;
    opts.factory.on('appShare', (server) => {
      this.#liveShares.add(server);
      server.once('closed', () => {
        if (!this.#liveShares.delete(server)) return;
        const s = server.stats();
        for (const k of Object.keys(this.#closedShares) as ShareTotal[]) this.#closedShares[k] += s[k];
      });
    });
  }

  /** FocusRegistry's onFocus: count its chat. */
  watchFocus(focus: Focus): void {
    focus.on('chat', (kind) => this.#chat.labels(kind).inc());
  }

  /** ConferenceConnection's countBytes. */
  readonly countConferenceBytes = (direction: 'in' | 'out', bytes: number): void => {
    this.#socketBytes.labels('conference', direction).inc(bytes);
  };

  /** The store with every call timed into baton_store_seconds{op}: one central place, no edits in KyselyStore. */
  timeStore(store: Store): Store {
    const histogram = this.#storeSeconds;
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'close') return value;
        return (...args: unknown[]) => {
          const start = performance.now();
          const done = (outcome: string) => histogram.labels(prop, outcome).observe((performance.now() - start) / 1000);
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) return result.then((v) => { done('ok'); return v; }, (err: unknown) => { done('error'); throw err; });
          return result;
        };
      },
    });
  }

  metrics(): Promise<string> {
    return this.register.metrics();
  }

  get contentType(): string {
    return this.register.contentType;
  }
}
