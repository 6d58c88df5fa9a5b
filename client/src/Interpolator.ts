interface Sample {
  t: number;
  x: number;
  y: number;
}

/**
 * Smooths a remote entity between the positions patches bring: it records each new
 * position with its arrival time and is sampled a little in the past (`delayMs`, about two
 * patches), so there are almost always two samples to blend. It never extrapolates.
 */
export class Interpolator {
  private readonly samples: Sample[] = [];

  constructor(
    x: number,
    y: number,
    now: number,
    private readonly delayMs = 100,
  ) {
    this.samples.push({ t: now, x, y });
  }

  /** Records a position if it differs from the last one. */
  push(now: number, x: number, y: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last.x === x && last.y === y) return;
    this.samples.push({ t: now, x, y });
    if (this.samples.length > 16) this.samples.shift();
  }

  /** The position to draw at `now`. */
  sample(now: number): { x: number; y: number } {
    const t = now - this.delayMs;
    const s = this.samples;
    while (s.length >= 2 && s[1].t <= t) s.shift();
    const a = s[0];
    const b = s[1];
    if (!b || t <= a.t) return { x: a.x, y: a.y };
    const k = (t - a.t) / (b.t - a.t);
    return { x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k };
  }
}
