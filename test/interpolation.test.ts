import { describe, expect, it } from "vitest";
import { Interpolator } from "../client/src/Interpolator";
import { PatchTimeline } from "../client/src/PatchTimeline";
import { rng } from "./helpers/rng";

// The remote-entity smoothing of the browser client, against a simulated network: the server
// sends a patch every 50 ms of an entity walking at 240 units/s, and the page only takes
// messages between frames, so at a low frame rate they arrive in bunches.
const SPEED = 240;
const PATCH = 50;

interface Run {
  frameMs: number;
  /** Random extra length of each frame, 0..jitter ms. */
  frameJitter: number;
  /** How often the entity's position changes (the stream has no patch in between). */
  everyMs?: number;
  seconds?: number;
}

/** Drawn speeds, one per frame, over the steady part of a walk. */
function simulate({ frameMs, frameJitter, everyMs = PATCH, seconds = 6 }: Run): number[] {
  const r = rng(7);
  const timeline = new PatchTimeline();
  const sends: number[] = [];
  for (let t = 0; t < seconds * 1000; t += everyMs) sends.push(t + r() * 2); // server timer jitter
  let interp: Interpolator | undefined;
  let next = 0;
  let last: { t: number; x: number } | undefined;
  const speeds: number[] = [];
  for (let frame = 0; frame < seconds * 1000; frame += frameMs + r() * frameJitter) {
    // Every patch sent (plus 1 ms on the wire) before this frame runs now, back to back.
    while (next < sends.length && sends[next] + 1 <= frame) {
      const x = (SPEED * sends[next]) / 1000;
      const stamp = timeline.patch(frame, PATCH);
      if (!interp) interp = new Interpolator(x, 0, stamp);
      else interp.push(stamp, x, 0, timeline.previous);
      next++;
    }
    if (!interp) continue;
    const p = interp.sample(timeline.renderTime(frame));
    if (last && frame > 2000) speeds.push(((p.x - last.x) * 1000) / (frame - last.t));
    last = { t: frame, x: p.x };
  }
  return speeds.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.round(p * (sorted.length - 1))];

describe("PatchTimeline + Interpolator", () => {
  for (const run of [
    { name: "60 fps", frameMs: 16.7, frameJitter: 1 },
    { name: "20 fps, uneven", frameMs: 40, frameJitter: 20 },
    { name: "12 fps, uneven", frameMs: 70, frameJitter: 26 },
    { name: "8 fps", frameMs: 120, frameJitter: 10 },
    { name: "12 fps, a change every other patch", frameMs: 70, frameJitter: 26, everyMs: 100 },
  ]) {
    it(`draws a steady walk at its speed: ${run.name}`, () => {
      const speeds = simulate(run);
      expect(pct(speeds, 0.1)).toBeGreaterThan(SPEED * 0.9);
      expect(pct(speeds, 0.9)).toBeLessThan(SPEED * 1.1);
    });
  }

  it("stamps bunched arrivals one patch interval apart", () => {
    const t = new PatchTimeline();
    const stamps = [0, 83, 166, 166, 250, 250, 333, 416, 416].map((arrival) => t.patch(arrival, PATCH));
    const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
    for (const g of gaps) expect(Math.abs(g - PATCH)).toBeLessThan(3);
  });

  it("starts a new run after a pause instead of gliding over it, and never stamps past the arrival", () => {
    const t = new PatchTimeline();
    for (let i = 0; i <= 10; i++) t.patch(i * PATCH, PATCH);
    const after = t.patch(5000, PATCH);
    expect(after).toBeGreaterThan(4900);
    expect(after).toBeLessThanOrEqual(5000);
  });

  it("grows the delay to cover slow frames, gently, and never draws backwards", () => {
    const t = new PatchTimeline(100);
    let drawn = -Infinity;
    let sent = 0;
    for (let frame = 120; frame < 20_000; frame += 120) {
      // Patches every 50 ms, taken in at frames 120 ms apart.
      for (; sent + 1 <= frame; sent += PATCH) t.patch(frame, PATCH);
      const at = t.renderTime(frame);
      expect(at).toBeGreaterThanOrEqual(drawn);
      // Always behind the newest stamp: there is a later sample to move toward.
      if (frame > 3000) expect(at).toBeLessThan(t.latest);
      drawn = at;
    }
    // A frame's wait for the next patches, and a little margin.
    expect(t.delayMs).toBeGreaterThan(120);
    expect(t.delayMs).toBeLessThan(200);
  });

  it("holds still entities still, then starts them where the previous patch had them", () => {
    const i = new Interpolator(0, 0, 0);
    i.push(1000, 10, 0, 950); // unchanged at the patch stamped 950, moved by the one at 1000
    expect(i.sample(900)).toEqual({ x: 0, y: 0 });
    expect(i.sample(950)).toEqual({ x: 0, y: 0 });
    expect(i.sample(975).x).toBeCloseTo(5);
    expect(i.sample(2000)).toEqual({ x: 10, y: 0 });
  });
});
