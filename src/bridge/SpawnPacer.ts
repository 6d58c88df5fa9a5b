/**
 * Starts backend processes one at a time, at least `gapMs` apart, process-wide.
 *
 * Why: `child_process.spawn` blocks the server's event loop until the child has exec'd (libuv
 * forks the whole server process: measured 11-29 ms per spawn with a 200 MB server on 2
 * busy cores). Four rooms created at once (a stranger joining four new process rooms) froze
 * every room of the process for ~100 ms. Paced, each start is one short stall between two
 * patches, and a burst of rooms waits its turn instead.
 *
 * Cost: O(1) per start; the queue holds at most one entry per live room (the room budget).
 */
export class SpawnPacer {
  private readonly queue: Array<() => void> = [];
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;

  constructor(private readonly gapMs: number) {}

  /** Runs `start` now if the last start was `gapMs` ago and nobody waits, else in turn. Returns a cancel. */
  schedule(start: () => void): () => void {
    this.queue.push(start);
    this.pump();
    return () => {
      const i = this.queue.indexOf(start);
      if (i >= 0) this.queue.splice(i, 1);
    };
  }

  /** Starts still waiting. */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = this.lastStart + this.gapMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      this.timer.unref();
      return;
    }
    this.lastStart = performance.now();
    this.queue.shift()!();
    this.pump();
  }
}

/** The process's pacer: at most one backend start every 100 ms (10 a second). */
export const backendStarts = new SpawnPacer(100);
