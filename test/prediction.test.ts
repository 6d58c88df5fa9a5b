import { describe, expect, it } from "vitest";
import { OwnPlayer } from "../client/src/OwnPlayer";
import { Prediction } from "../client/src/Prediction";

// The browser client's own-player prediction: inputs with seqs, acks, and the replay on top
// of them with the server's own `stepPosition`.
const RULES = { speed: 240, lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 2000, z: 0 } };
const NONE = { up: false, down: false, left: false, right: false };
const RIGHT = { ...NONE, right: true };
const DOWN = { ...NONE, down: true };

describe("Prediction", () => {
  it("numbers inputs and replays them from the start position until an ack", () => {
    const p = new Prediction({ x: 100, y: 100 });
    expect(p.input(RIGHT, 0)).toBe(1);
    expect(p.input(DOWN, 500)).toBe(2);
    expect(p.at(1000, RULES)).toEqual({ x: 220, y: 220 });
  });

  it("an ack that only lags behind changes nothing: the server's position plus the rest of the replay", () => {
    const p = new Prediction({ x: 100, y: 100 });
    p.input(RIGHT, 0);
    const before = p.at(1000, RULES);
    expect(before).toEqual({ x: 340, y: 100 });
    // The server got the keys a while later and has applied them for 700 ms so far: its
    // player is 168 units on, the replay adds the other 300 ms this client has held them.
    p.ack({ seq: 1, x: 100 + 0.24 * 700, y: 100, ms: 700 });
    expect(p.at(1000, RULES).x).toBeCloseTo(before.x, 6);
    p.ack({ seq: 1, x: 100 + 0.24 * 850, y: 100, ms: 850 });
    expect(p.at(1000, RULES).x).toBeCloseTo(before.x, 6);
  });

  it("after the release is acked, the server's final position is the prediction", () => {
    const p = new Prediction({ x: 100, y: 100 });
    p.input(RIGHT, 0);
    p.input(NONE, 1500);
    expect(p.at(3000, RULES)).toEqual({ x: 460, y: 100 });
    expect(p.idle(3000)).toBe(false); // the release is not acknowledged yet
    p.ack({ seq: 1, x: 400, y: 100, ms: 1250 }); // the replay still holds the other 250 ms
    expect(p.at(3000, RULES).x).toBeCloseTo(460, 6);
    p.ack({ seq: 2, x: 461.5, y: 100, ms: 0 }); // the server held the key 6 ms longer
    expect(p.at(3000, RULES)).toEqual({ x: 461.5, y: 100 });
    expect(p.idle(3000)).toBe(true);
  });

  it("ignores acks older than the last one and acks of inputs it never sent", () => {
    const p = new Prediction({ x: 100, y: 100 });
    p.input(RIGHT, 0);
    p.input(NONE, 1000);
    p.ack({ seq: 2, x: 340, y: 100, ms: 0 });
    p.ack({ seq: 1, x: 300, y: 100, ms: 800 });
    p.ack({ seq: 2, x: 999, y: 100, ms: -5 });
    p.ack({ seq: 9, x: 5, y: 5, ms: 0 });
    expect(p.at(2000, RULES)).toEqual({ x: 340, y: 100 });
  });

  it("clamps the replay to the map, as the server does", () => {
    const p = new Prediction({ x: 1990, y: 100 });
    p.input(RIGHT, 0);
    expect(p.at(1000, RULES).x).toBe(2000);
  });

  it("gives up on an input the server never acknowledges (it was refused), once idle", () => {
    const p = new Prediction({ x: 100, y: 100 });
    p.input(NONE, 0);
    expect(p.idle(100)).toBe(false);
    expect(p.idle(5000)).toBe(true);
    p.rebase({ x: 50, y: 60 });
    expect(p.at(6000, RULES)).toEqual({ x: 50, y: 60 });
  });
});

describe("OwnPlayer", () => {
  /** Frames of `dt` ms from `from` to `to`, drawn x each. */
  function run(own: OwnPlayer, from: number, to: number, dt: number, server: { x: number; y: number }): number[] {
    const xs: number[] = [];
    for (let t = from; t <= to; t += dt) {
      own.frame(t, dt, server, RULES);
      xs.push(own.x);
    }
    return xs;
  }

  it("fades a small correction while walking without ever stepping back", () => {
    const own = new OwnPlayer({ x: 100, y: 100 });
    own.input(RIGHT, 0);
    run(own, 0, 500, 16, { x: 100, y: 100 });
    // The server is 4 units behind what its ms says (it placed the player differently).
    own.ack({ seq: 1, x: 100 + 0.24 * 300 - 4, y: 100, ms: 300 }, RULES);
    const xs = run(own, 516, 1204, 16, { x: 100, y: 100 });
    for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
    expect(xs[xs.length - 1]).toBeCloseTo(100 + 0.24 * 1204 - 4, 1);
  });

  it("stops where the last frame was when the key is released, whatever the latency", () => {
    const own = new OwnPlayer({ x: 100, y: 100 });
    own.input(RIGHT, 0);
    const xs = run(own, 0, 1500, 50, { x: 100, y: 100 });
    const seen = xs[xs.length - 1];
    // Released during the next frame: the keys count from the last frame, 1500.
    own.input(NONE, 1500);
    const after = run(own, 1550, 2000, 50, { x: 100, y: 100 });
    expect(Math.max(...after)).toBe(seen);
    expect(Math.min(...after)).toBe(seen);
  });

  it("follows the server when it moves an idle player (a teleport snaps, a nudge fades)", () => {
    const own = new OwnPlayer({ x: 100, y: 100 });
    run(own, 0, 100, 16, { x: 100, y: 100 });
    run(own, 116, 200, 16, { x: 900, y: 900 });
    expect({ x: own.x, y: own.y }).toEqual({ x: 900, y: 900 });
    const xs = run(own, 216, 1200, 16, { x: 905, y: 900 });
    expect(xs[0]).toBeLessThan(905);
    expect(xs[xs.length - 1]).toBeCloseTo(905, 2);
  });
});
