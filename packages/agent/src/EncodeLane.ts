/**
 * One encoder's work beside the capture loop: at most one job runs, at most one waits. A job offered
 * while one runs replaces the one waiting (that picture is dropped: the newer one shows everything it
 * would have, and a stream cannot skip an encoded unit, only a picture before it is encoded), so an
 * encoder slower than the capture never builds a queue of stale pictures and never holds up the
 * passes that send the rest of the screen as tiles.
 */
export type LaneStats = { offered: number; started: number; dropped: number };

export class EncodeLane<T> {
  #run: (job: T) => Promise<void>;
  #onDrop: ((job: T) => void) | undefined;
  #busy: Promise<void> | null = null;
  #waiting: T | null = null;
  #hasWaiting = false;
  readonly stats: LaneStats = { offered: 0, started: 0, dropped: 0 };

  /** `run` does one job to its end (it must not throw: errors are its own to report); `onDrop` gets the jobs never run. */
  constructor(run: (job: T) => Promise<void>, onDrop?: (job: T) => void) {
    this.#run = run;
    this.#onDrop = onDrop;
  }

  /** A job is running. */
  get busy(): boolean {
    return this.#busy !== null;
  }

  /** Start `job` now if the lane is free, else keep it as the next one (dropping the one kept before). */
  offer(job: T): void {
    this.stats.offered++;
    if (this.#busy) {
      if (this.#hasWaiting) {
        this.stats.dropped++;
        this.#onDrop?.(this.#waiting as T);
      }
      this.#waiting = job;
      this.#hasWaiting = true;
      return;
    }
    this.#start(job);
  }

  /** Forget the job waiting, if any (its stream ended). */
  clearWaiting(): void {
    if (this.#hasWaiting) this.#onDrop?.(this.#waiting as T);
    this.#take();
  }

  #take(): void {
    this.#waiting = null;
    this.#hasWaiting = false;
  }

  /** Resolves once nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.#busy) await this.#busy;
  }

  #start(job: T): void {
    this.stats.started++;
    const p = this.#run(job)
      .catch(() => undefined)
      .then(() => {
        this.#busy = null;
        if (!this.#hasWaiting) return;
        const next = this.#waiting as T;
        this.#take();
        this.#start(next);
      });
    this.#busy = p;
  }
}
