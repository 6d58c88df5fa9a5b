import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SpawnPacer } from "../src/bridge/SpawnPacer";

// Backend starts are paced process-wide: a spawn blocks the event loop until the child has
// exec'd (tens of ms under load), so four rooms created at once stalled every room for the
// sum. Paced, they run one at a time, a gap apart, in order.
describe("SpawnPacer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs the first start at once and each later one a gap after the one before, in order", () => {
    const pacer = new SpawnPacer(100);
    const ran: Array<[string, number]> = [];
    const t0 = performance.now();
    for (const name of ["a", "b", "c", "d"]) pacer.schedule(() => ran.push([name, performance.now() - t0]));
    expect(ran.map(([n]) => n)).toEqual(["a"]);
    expect(pacer.waiting).toBe(3);
    vi.advanceTimersByTime(99);
    expect(ran.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(ran.map(([n]) => n)).toEqual(["a", "b"]);
    vi.advanceTimersByTime(200);
    expect(ran.map(([n]) => n)).toEqual(["a", "b", "c", "d"]);
    const gaps = ran.slice(1).map(([, t], i) => t - ran[i][1]);
    expect(gaps.every((g) => g >= 100)).toBe(true);
    expect(pacer.waiting).toBe(0);
  });

  it("a cancelled start never runs and takes no turn (a room closed before its backend started)", () => {
    const pacer = new SpawnPacer(100);
    const ran: string[] = [];
    pacer.schedule(() => ran.push("a"));
    const cancelB = pacer.schedule(() => ran.push("b"));
    pacer.schedule(() => ran.push("c"));
    cancelB();
    cancelB(); // twice: harmless
    vi.advanceTimersByTime(100);
    expect(ran).toEqual(["a", "c"]);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(["a", "c"]);
  });

  it("a start after a quiet spell runs at once", () => {
    const pacer = new SpawnPacer(100);
    const ran: string[] = [];
    pacer.schedule(() => ran.push("a"));
    vi.advanceTimersByTime(500);
    pacer.schedule(() => ran.push("b"));
    expect(ran).toEqual(["a", "b"]);
  });
});
