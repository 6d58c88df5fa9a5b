interface Sample {
  t: number;
  x: number;
  y: number;
}

/** Samples kept: enough for the longest draw delay at the fastest patch rate. */
const MAX_SAMPLES = 48;
/** An entity unchanged for longer than this was standing still, not moving slowly. */
const STILL_MS = 150;

/**
 * Smooths a remote entity between the positions patches bring. Each position is recorded
 * with its patch's stamp (PatchTimeline: when the position was true, not when a frame first
 * saw it) and the entity is drawn at a time a little in the past (the timeline's delay), so
 * there are almost always two samples to blend, at any frame rate. It never extrapolates.
 */
export class Interpolator {
  private readonly samples: Sample[] = [];

  constructor(x: number, y: number, t: number) {
    this.samples.push({ t, x, y });
  }

  /**
   * Records the position a patch stamped `t` brings, if it differs from the last one.
   * `previousT` is the stamp of the patch before, where the entity still stood at its last
   * position: after standing still, the movement starts there instead of gliding over the pause.
   */
  push(t: number, x: number, y: number, previousT = Number.NaN): void {
    const last = this.samples[this.samples.length - 1];
    if (last.x === x && last.y === y) return;
    if (t - last.t > STILL_MS && previousT > last.t && previousT < t) this.samples.push({ t: previousT, x: last.x, y: last.y });
    this.samples.push({ t, x, y });
    while (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** The position to draw at time `t` (already in the past: see PatchTimeline.renderTime). */
  sample(t: number): { x: number; y: number } {
    const s = this.samples;
    while (s.length >= 2 && s[1].t <= t) s.shift();
    const a = s[0];
    const b = s[1];
    if (!b || t <= a.t) return { x: a.x, y: a.y };
    const k = (t - a.t) / (b.t - a.t);
    return { x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k };
  }
}
