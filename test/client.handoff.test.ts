import { describe, expect, it } from "vitest";
import { OwnPlayer } from "../client/src/OwnPlayer";
import { readParams } from "../client/src/params";

// The browser client's side of a handoff between region rooms, as pure bookkeeping: the own
// player keeps its prediction when the held keys are sent again (to the new room, with the
// next seq), the old room's late acks are not listened to, and the new room's acks reconcile
// it without a jump. (test/e2e/regions.test.ts plays it in a browser.)
const RULES = { speed: 240, lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } };
const NONE = { up: false, down: false, left: false, right: false };
const RIGHT = { ...NONE, right: true };

/** Frames every 16 ms from `from` to `to`; returns the largest drawn step. */
function run(own: OwnPlayer, from: number, to: number, server: { x: number; y: number }, during?: (t: number) => void): number {
  let max = 0;
  let last = { x: own.x, y: own.y };
  for (let t = from; t <= to; t += 16) {
    during?.(t);
    own.frame(t, 16, server, RULES);
    max = Math.max(max, Math.hypot(own.x - last.x, own.y - last.y));
    last = { x: own.x, y: own.y };
  }
  return max;
}

describe("the own player across a handoff", () => {
  it("re-sending the held keys with the next seq changes nothing drawn; the new room's acks reconcile it smoothly", () => {
    const own = new OwnPlayer({ x: 900, y: 500 });
    own.frame(0, 16, { x: 900, y: 500 }, RULES);
    const first = own.input(RIGHT, 0);
    expect(first.seq).toBe(1);
    // The old room acks the walk (a round trip behind).
    run(own, 16, 800, { x: 900, y: 500 }, (t) => t % 48 === 0 && t > 60 && own.ack({ seq: 1, x: 900 + 0.24 * (t - 40), y: 500, ms: t - 40 }, RULES));
    const before = own.predicted(RULES);
    // The switch: the same keys again, for the new room, with the next seq.
    const again = own.input(RIGHT, 800);
    expect(again).toEqual({ ...RIGHT, seq: 2 });
    expect(own.predicted(RULES)).toEqual(before);
    // The new room started the player a little behind (where the old room's last ghost batch put
    // it) and moves it on with the keys it was handed; its acks for seq 2 reconcile the prediction.
    const lag = 12; // one 50 ms patch at 240 units/s
    const maxStep = run(own, 816, 1600, { x: 0, y: 0 }, (t) => {
      if (t % 48 === 0 && t > 860) own.ack({ seq: 2, x: before.x - lag + 0.24 * (t - 830), y: 500, ms: t - 830 }, RULES);
    });
    // Never more than a frame's walk plus a little of the correction fading out.
    expect(maxStep).toBeLessThan(0.24 * 16 + 4);
    // Settled on the new room's word.
    const settled = own.predicted(RULES);
    expect(Math.abs(own.x - settled.x)).toBeLessThan(0.5);
    expect(settled.x).toBeCloseTo(before.x - lag + 0.24 * (1600 - 800), 0);
  });

  it("an ack of the old room for an input before the switch is older than the new room's and changes nothing", () => {
    const own = new OwnPlayer({ x: 900, y: 500 });
    own.frame(0, 16, { x: 900, y: 500 }, RULES);
    own.input(RIGHT, 0);
    run(own, 16, 500, { x: 900, y: 500 });
    own.input(RIGHT, 500); // the switch
    own.ack({ seq: 2, x: 1020, y: 500, ms: 10 }, RULES);
    const settled = own.predicted(RULES);
    // A late ack from the room left behind (seq 1) is ignored.
    own.ack({ seq: 1, x: 1100, y: 500, ms: 900 }, RULES);
    expect(own.predicted(RULES)).toEqual(settled);
  });
});

describe("the page's region", () => {
  it("reads ?region= (a region room of a split world to join), absent by default", () => {
    expect(readParams("?world=split&region=1_0").region).toBe("1_0");
    expect(readParams("?world=split").region).toBeUndefined();
    expect("region" in readParams("?world=split&region=")).toBe(false);
  });
});
