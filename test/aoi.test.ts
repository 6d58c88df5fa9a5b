import { describe, expect, it } from "vitest";
import { Interest, InterestManager, SpatialGrid, cellSizeForAoi, growVec, insideBox, type Vec3 } from "../src/aoi";
import { rng } from "./helpers/rng";


interface E {
  id: number;
  p: Vec3;
}

function randomPoint(r: () => number, size: Vec3, ints: boolean): Vec3 {
  const v = (s: number) => (s === 0 ? 0 : ints ? Math.floor((r() - 0.5) * s) : (r() - 0.5) * s);
  return { x: v(size.x), y: v(size.y), z: v(size.z) };
}

const WORLDS = [
  { name: "2D floats", size: { x: 2000, y: 1500, z: 0 }, aoi: { x: 150, y: 100, z: 0 }, ints: false },
  { name: "2D ints", size: { x: 1000, y: 1000, z: 0 }, aoi: { x: 100, y: 100, z: 0 }, ints: true },
  { name: "3D floats", size: { x: 800, y: 300, z: 800 }, aoi: { x: 120, y: 60, z: 120 }, ints: false },
  { name: "3D ints, negative map", size: { x: 600, y: 600, z: 600 }, aoi: { x: 90, y: 90, z: 90 }, ints: true },
];

describe("SpatialGrid", () => {
  for (const world of WORLDS) {
    it(`queryBox equals brute force (${world.name})`, () => {
      const r = rng(42);
      const grid = new SpatialGrid<E>(cellSizeForAoi(world.aoi, 0));
      const all: E[] = [];
      for (let i = 0; i < 600; i++) {
        const e = { id: i, p: randomPoint(r, world.size, world.ints) };
        all.push(e);
        grid.insert(e, e.p);
      }
      for (let step = 0; step < 40; step++) {
        // Move a third, remove a few, re-add a few.
        for (const e of all) {
          if (r() < 0.33) {
            e.p = randomPoint(r, world.size, world.ints);
            grid.move(e, e.p);
          }
        }
        const victim = all[Math.floor(r() * all.length)];
        if (grid.has(victim)) grid.remove(victim);
        else grid.insert(victim, victim.p);
        const center = randomPoint(r, world.size, world.ints);
        const got = grid.queryBox(center, world.aoi).map((e) => e.id).sort((a, b) => a - b);
        const want = all.filter((e) => grid.has(e) && insideBox(e.p, center, world.aoi)).map((e) => e.id).sort((a, b) => a - b);
        expect(got).toEqual(want);
      }
    });
  }

  it("includes the border and handles far-away coordinates", () => {
    const grid = new SpatialGrid<string>({ x: 10, y: 10, z: Infinity });
    grid.insert("edge", { x: 10, y: -10, z: 0 });
    grid.insert("far", { x: 1e12, y: -1e12, z: 0 });
    grid.insert("far2", { x: 1e12 + 5, y: -1e12, z: 0 });
    expect(grid.queryBox({ x: 0, y: 0, z: 0 }, { x: 10, y: 10, z: 0 })).toEqual(["edge"]);
    expect(grid.queryBox({ x: 1e12, y: -1e12, z: 0 }, { x: 5, y: 5, z: 0 }).sort()).toEqual(["far", "far2"]);
    expect(grid.remove("edge")).toBe(true);
    expect(grid.remove("edge")).toBe(false);
    expect(grid.size).toBe(2);
  });

  it("refuses a zero or negative cell size", () => {
    expect(() => new SpatialGrid({ x: 0, y: 1, z: 1 })).toThrow(RangeError);
  });
});

/** The enter/leave rule, written the slow and obvious way. */
function bruteForceStep(prev: Set<number>, all: E[], alive: Set<number>, self: E, aoi: Vec3, margin: number): Set<number> {
  const next = new Set<number>();
  const leave = growVec(aoi, margin);
  for (const e of all) {
    if (e === self || !alive.has(e.id)) continue;
    if (insideBox(e.p, self.p, aoi) || (prev.has(e.id) && insideBox(e.p, self.p, leave))) next.add(e.id);
  }
  return next;
}

describe("Interest (hysteresis) against brute force", () => {
  for (const world of WORLDS) {
    for (const margin of [0, 25]) {
      it(`${world.name}, margin ${margin}`, () => {
        const r = rng(7 + margin);
        const grid = new SpatialGrid<E>(cellSizeForAoi(world.aoi, margin));
        const all: E[] = [];
        const alive = new Set<number>();
        for (let i = 0; i < 300; i++) {
          const e = { id: i, p: randomPoint(r, world.size, world.ints) };
          all.push(e);
          grid.insert(e, e.p);
          alive.add(i);
        }
        const observers = all.slice(0, 30);
        const interests = observers.map(() => new Interest<E>());
        const expected = observers.map(() => new Set<number>());
        const leaveBox = growVec(world.aoi, margin);
        let entries = 0;
        let exits = 0;
        for (let step = 0; step < 60; step++) {
          // Small moves (so the hysteresis band matters), a few teleports, a few removals.
          for (const e of all) {
            if (!alive.has(e.id)) continue;
            const jump = r() < 0.05;
            const d = (s: number) => (s === 0 ? 0 : jump ? (r() - 0.5) * s : (r() - 0.5) * 40);
            e.p = { x: e.p.x + d(world.size.x), y: e.p.y + d(world.size.y), z: e.p.z + d(world.size.z) };
            if (world.ints) e.p = { x: Math.round(e.p.x), y: Math.round(e.p.y), z: Math.round(e.p.z) };
            grid.move(e, e.p);
          }
          const victim = all[observers.length + Math.floor(r() * (all.length - observers.length))];
          // Removed from the grid only, as the room does: observers drop it silently.
          if (alive.delete(victim.id)) grid.remove(victim);
          observers.forEach((o, k) => {
            const before = new Set(interests[k].visible);
            const diff = interests[k].update(grid, o.p, world.aoi, leaveBox, o);
            const want = bruteForceStep(expected[k], all, alive, o, world.aoi, margin);
            // The removed entity is dropped silently (no `left`), so compare without it.
            expected[k] = want;
            expect(new Set([...interests[k].visible].map((e) => e.id))).toEqual(want);
            for (const e of diff.entered) expect(before.has(e)).toBe(false);
            for (const e of diff.left) expect(interests[k].visible.has(e)).toBe(false);
            entries += diff.entered.length;
            exits += diff.left.length;
          });
        }
        // The scenario must actually exercise both directions.
        expect(entries).toBeGreaterThan(50);
        expect(exits).toBeGreaterThan(20);
      });
    }
  }
});

describe("InterestManager", () => {
  it("reports enter and leave to both sides, never the observer itself", () => {
    const m = new InterestManager<string, string>({ x: 100, y: 100, z: 0 }, 10);
    m.placePlayer("a", { x: 0, y: 0, z: 0 });
    m.placePlayer("b", { x: 50, y: 0, z: 0 });
    m.placeItem("gem", { x: 0, y: 90, z: 0 });
    const seen = new Map<string, string[]>();
    m.update((o, p, i) => seen.set(o, [...p.entered, ...i.entered]));
    expect(seen.get("a")?.sort()).toEqual(["b", "gem"]);
    expect(seen.get("b")?.sort()).toEqual(["a", "gem"]);
    // Inside the margin band: nothing changes.
    m.placePlayer("b", { x: 105, y: 0, z: 0 });
    seen.clear();
    m.update((o, p) => seen.set(o, p.left));
    expect(seen.size).toBe(0);
    // Beyond aoi + margin: both lose each other.
    m.placePlayer("b", { x: 111, y: 0, z: 0 });
    m.update((o, p) => seen.set(o, p.left));
    expect(seen.get("a")).toEqual(["b"]);
    expect(seen.get("b")).toEqual(["a"]);
    // A removed item is forgotten without a diff, and is not re-reported.
    m.removeItem("gem");
    expect(m.interestOf("a")?.items.visible.size).toBe(0);
    m.removePlayer("b");
    expect(m.interestOf("b")).toBeUndefined();
    expect(m.interestOf("a")?.players.visible.size).toBe(0);
  });

  it("update(only) recomputes a single observer", () => {
    const m = new InterestManager<string, string>({ x: 100, y: 100, z: 0 }, 0);
    m.placePlayer("a", { x: 0, y: 0, z: 0 });
    m.placePlayer("b", { x: 10, y: 0, z: 0 });
    const observers: string[] = [];
    m.update((o) => observers.push(o), "b");
    expect(observers).toEqual(["b"]);
  });
});
