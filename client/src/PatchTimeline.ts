/** How far back the lag and "need" statistics look, ms. */
const LAG_WINDOW_MS = 1000;
const NEED_WINDOW_MS = 3000;
/** Per patch, the timeline moves this share of its excess lag toward the earliest arrivals. */
const DRIFT_GAIN = 0.1;
/** The timeline settles this far (ms) below the earliest arrivals, so it rarely runs into them. */
const LAG_MARGIN_MS = 2;
/** Weight of each patch in the stream's cadence (intervals between patches, on average). */
const CADENCE_GAIN = 0.05;
const MAX_CADENCE = 4;
/** Added to the longest wait for a patch seen recently. */
const DELAY_MARGIN_MS = 10;
const MAX_DELAY_MS = 1000;
/**
 * How fast the delay may change, in ms per ms: remote entities are drawn this much slower
 * (growing) or faster (shrinking) while it changes, never backwards.
 */
const DELAY_GROW = 0.1;
const DELAY_SHRINK = 0.02;

interface Timed {
  at: number;
  value: number;
}

/**
 * When the positions of each patch were true, on a steady clock, and how far in the past to
 * draw remote entities.
 *
 * Patches leave the server every `patchRate` ms but do not arrive that way: a slow frame
 * holds the socket's messages back, and they then run back to back (at 12 fps two patches
 * often share an arrival time). Stamped with their arrival (or with the frame that first
 * sees them), steady motion turns into jumps and stops. Here each patch is stamped one
 * interval after the previous one, the stamps drift gently toward the earliest arrivals
 * (they never run ahead of an arrival, nor fall behind for long), and a patch that comes
 * later than any lag seen recently explains starts a new run: the server sent nothing for a
 * while because nothing changed.
 *
 * The draw delay is just over the longest time the newest stamp has recently been old when
 * a patch arrived, so interpolation almost always has a later sample to go to, at any frame
 * rate; it is eased, so the drawn time never jumps, and when patches run out anyway the
 * drawn time waits at the newest one (the delay grows by the wait).
 */
export class PatchTimeline {
  private last?: { arrival: number; stamp: number };
  private readonly lags: Timed[] = [];
  private readonly needs: Timed[] = [];
  /** Patch intervals between two patches of this stream, on average (2: a change every other patch). */
  private cadence = 1;
  private delay: number;
  private lastFrame?: number;
  /** The stamp of the patch before the newest (NaN before the second). */
  previous = Number.NaN;

  constructor(private readonly baseDelayMs = 100) {
    this.delay = baseDelayMs;
  }

  /** The stamp of the newest patch (NaN before the first). */
  get latest(): number {
    return this.last?.stamp ?? Number.NaN;
  }

  /** The current draw delay, ms. */
  get delayMs(): number {
    return this.delay;
  }

  /** A patch arrived at `arrival` (performance.now()); returns the time its positions are true at. */
  patch(arrival: number, intervalMs: number): number {
    const last = this.last;
    let stamp = arrival;
    if (last) {
      prune(this.lags, arrival - LAG_WINDOW_MS);
      prune(this.needs, arrival - NEED_WINDOW_MS);
      const floor = this.lags.length ? Math.min(...this.lags.map((l) => l.value)) : 0;
      const spread = this.lags.length ? Math.max(...this.lags.map((l) => l.value)) - floor : 0;
      // The next patch of the stream: one interval on, or two when the stream's changes come
      // every other patch (then the one in between had nothing for this client).
      const expected = last.stamp + Math.max(1, Math.round(this.cadence)) * intervalMs;
      // Lateness beyond any lag seen recently (and at least an interval, while too few were seen).
      if (arrival - expected - floor > Math.max(spread, intervalMs) + intervalMs / 2) {
        // A pause in the stream, not lag: start a new run about as late as patches usually are.
        stamp = Math.max(expected, arrival - floor - spread / 2);
      } else {
        stamp = expected + DRIFT_GAIN * (floor - LAG_MARGIN_MS);
        this.needs.push({ at: arrival, value: arrival - last.stamp });
      }
      // (A long pause counts as a few intervals: it says little about the stream's rhythm.)
      const gap = Math.min(MAX_CADENCE, (arrival - last.arrival) / intervalMs);
      this.cadence += CADENCE_GAIN * (gap - this.cadence);
      stamp = Math.min(arrival, Math.max(stamp, last.stamp));
    }
    this.lags.push({ at: arrival, value: arrival - stamp });
    this.previous = last?.stamp ?? Number.NaN;
    this.last = { arrival, stamp };
    return stamp;
  }

  /** The time to draw remote entities at for the frame at `now`: `now` minus the eased delay. */
  renderTime(now: number): number {
    const need = this.needs.length ? Math.max(...this.needs.map((n) => n.value)) + DELAY_MARGIN_MS : 0;
    const target = Math.min(MAX_DELAY_MS, Math.max(this.baseDelayMs, need));
    const dt = this.lastFrame === undefined ? 0 : Math.max(0, now - this.lastFrame);
    this.lastFrame = now;
    this.delay += Math.max(-DELAY_SHRINK * dt, Math.min(DELAY_GROW * dt, target - this.delay));
    // Out of patches (a stall here or at the server): wait at the newest one rather than run
    // past it, so the motion resumes from there instead of skipping what arrives late.
    const latest = this.latest;
    if (now - this.delay > latest) this.delay = Math.min(MAX_DELAY_MS, now - latest);
    return now - this.delay;
  }
}

function prune(list: Timed[], before: number): void {
  while (list.length && list[0].at < before) list.shift();
}
