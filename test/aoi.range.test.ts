import { describe, expect, it } from "vitest";
import { InterestManager, RANGE_DEFAULT, RANGE_FAR, RANGE_NEAR, checkCustomAoi, checkVisibilityRange, growVec, insideBox, rangeKind, type Vec3 } from "../src/aoi";
import { rng } from "./helpers/rng";

// Per-entity visibility ranges in the AoI core: observer C sees E inside C's box of E's range
// (E's range if set, else the AoI); enter inside it, leave only outside it + margin.

interface E {
  id: string;
  p: Vec3;
}

const AOI = { x: 100, y: 80, z: 0 };
const MARGIN = 10;

/** A manager with players and items, and the diffs of one update per observer id. */
function world(aoi: Vec3 = AOI, margin = MARGIN, factor?: number) {
  const m = new InterestManager<E, E>(aoi, margin, factor);
  const update = () => {
    const seen = new Map<string, { entered: string[]; left: string[] }>();
    m.update((o, players, items) =>
      seen.set(o.id, {
        entered: [...players.entered, ...items.entered].map((e) => e.id).sort(),
        left: [...players.left, ...items.left].map((e) => e.id).sort(),
      }),
    );
    return seen;
  };
  const visible = (o: E) => {
    const i = m.interestOf(o)!;
    return [...i.players.visible, ...i.items.visible].map((e) => e.id).sort();
  };
  return { m, update, visible };
}

const at = (id: string, x: number, y = 0): E => ({ id, p: { x, y, z: 0 } });

describe("per-entity visibility range: hysteresis", () => {
  it("a far-visible item (4x the AoI) enters inside its range and leaves only beyond range + margin", () => {
    const { m, update, visible } = world();
    const c = at("c", 0);
    m.placePlayer(c, c.p);
    const tower = at("tower", 390);
    m.placeItem(tower, tower.p);
    m.setItemRange(tower, { x: 400, y: 320, z: 0 });
    expect(update().get("c")).toEqual({ entered: ["tower"], left: [] });
    // In the band (beyond the range, within range + margin): kept, no diff.
    tower.p = { x: 405, y: -325, z: 0 };
    m.placeItem(tower, tower.p);
    expect(update().get("c")).toBeUndefined();
    expect(visible(c)).toEqual(["tower"]);
    // Beyond range + margin on one axis: left.
    tower.p = { x: 405, y: -331, z: 0 };
    m.placeItem(tower, tower.p);
    expect(update().get("c")).toEqual({ entered: [], left: ["tower"] });
    // Back into the band only: not re-entered (entering needs the range itself).
    tower.p = { x: 408, y: 0, z: 0 };
    m.placeItem(tower, tower.p);
    expect(update().get("c")).toBeUndefined();
    tower.p = { x: 400, y: 0, z: 0 };
    m.placeItem(tower, tower.p);
    expect(update().get("c")).toEqual({ entered: ["tower"], left: [] });
  });

  it("a sneaking player (a smaller range) is unseen until close, and leaves beyond its range + margin", () => {
    const { m, update, visible } = world();
    const c = at("c", 0);
    const sneak = at("sneak", 60);
    m.placePlayer(c, c.p);
    m.setPlayerRange(sneak, { x: 20, y: 20, z: 0 }); // before it is placed: applied when it is
    m.placePlayer(sneak, sneak.p);
    // Inside C's AoI but outside C's box of the sneak's range: C does not see it.
    const first = update();
    expect(first.get("c")).toBeUndefined();
    // The sneak itself observes as usual (C has no range): it sees C.
    expect(first.get("sneak")).toEqual({ entered: ["c"], left: [] });
    sneak.p = { x: 20, y: -20, z: 0 };
    m.placePlayer(sneak, sneak.p);
    expect(update().get("c")).toEqual({ entered: ["sneak"], left: [] });
    sneak.p = { x: 30, y: 0, z: 0 }; // in the band
    m.placePlayer(sneak, sneak.p);
    expect(update().get("c")).toBeUndefined();
    expect(visible(c)).toEqual(["sneak"]);
    sneak.p = { x: 31, y: 0, z: 0 };
    m.placePlayer(sneak, sneak.p);
    expect(update().get("c")).toEqual({ entered: [], left: ["sneak"] });
    expect(visible(c)).toEqual([]);
    expect(visible(sneak)).toEqual(["c"]);
  });

  it("default entities keep the AoI rule next to ranged ones; an observer never sees itself", () => {
    const { m, update, visible } = world();
    const c = at("c", 0);
    const boss = at("boss", 250);
    m.placePlayer(c, c.p);
    m.placePlayer(boss, boss.p);
    m.setPlayerRange(boss, { x: 300, y: 300, z: 0 });
    for (const [id, x] of [["g1", 100], ["g2", 105], ["g3", 111]] as const) m.placeItem(at(id, x), { x, y: 0, z: 0 });
    update();
    expect(visible(c)).toEqual(["boss", "g1"]);
    // The boss sees within the AoI (its range is how far it is seen, not how far it sees).
    expect(visible(boss)).toEqual([]);
    expect(m.interestOf(boss)!.players.visible.has(boss)).toBe(false);
  });
});

describe("per-entity visibility range: runtime changes", () => {
  it("growing, shrinking and removing a range change what observers see at their next update", () => {
    const { m, update, visible } = world();
    const c = at("c", 0);
    const e = at("e", 200);
    m.placePlayer(c, c.p);
    m.placeItem(e, e.p);
    update();
    expect(visible(c)).toEqual([]);
    expect(m.items.rangedCount).toBe(0);
    m.setItemRange(e, { x: 200, y: 80, z: 0 });
    expect(m.items.rangeKind[m.items.handleOf(e)]).toBe(RANGE_FAR);
    expect(m.items.rangedCount).toBe(1);
    expect(update().get("c")).toEqual({ entered: ["e"], left: [] });
    // Back to the AoI: 200 is beyond AoI + margin, so it leaves.
    m.setItemRange(e, null);
    expect(m.itemRange(e)).toBeUndefined();
    expect(m.items.farHandles).toEqual([]);
    expect(m.items.rangedCount).toBe(0);
    expect(update().get("c")).toEqual({ entered: [], left: ["e"] });
    // Close by, default: seen; then a smaller range it is outside of (+ margin): leaves.
    e.p = { x: 50, y: 0, z: 0 };
    m.placeItem(e, e.p);
    expect(update().get("c")).toEqual({ entered: ["e"], left: [] });
    m.setItemRange(e, { x: 30, y: 30, z: 0 });
    expect(m.items.rangeKind[m.items.handleOf(e)]).toBe(RANGE_NEAR);
    expect(m.items.rangedCount).toBe(1);
    expect(update().get("c")).toEqual({ entered: [], left: ["e"] });
    // A range equal to the AoI is the default class (the plain test).
    m.setItemRange(e, { ...AOI });
    expect(m.items.rangeKind[m.items.handleOf(e)]).toBe(RANGE_DEFAULT);
    expect(m.items.rangedCount).toBe(0);
    expect(m.itemRange(e)).toEqual(AOI);
    expect(update().get("c")).toEqual({ entered: ["e"], left: [] });
  });

  it("a removed entity takes its range along: far list cleaned, a reused handle starts at the default", () => {
    const { m, update, visible } = world();
    const c = at("c", 0);
    const far = at("far", 300);
    m.placePlayer(c, c.p);
    m.placeItem(far, far.p);
    m.setItemRange(far, { x: 400, y: 80, z: 0 });
    update();
    expect(visible(c)).toEqual(["far"]);
    const handle = m.items.handleOf(far);
    m.removeItem(far);
    expect(m.items.farHandles).toEqual([]);
    expect(m.items.rangedCount).toBe(0);
    expect(m.itemRange(far)).toBeUndefined();
    // Dropped silently (whoever removed it knows), as for any entity.
    expect(update().get("c")).toBeUndefined();
    const next = at("next", 300);
    m.placeItem(next, next.p);
    expect(m.items.handleOf(next)).toBe(handle);
    expect(m.items.rangeKind[handle]).toBe(RANGE_DEFAULT);
    update();
    expect(visible(c)).toEqual([]);
    // Re-adding the removed entity: no range any more.
    m.placeItem(far, far.p);
    update();
    expect(visible(c)).toEqual([]);
  });
});

describe("per-entity visibility range: against brute force", () => {
  /** The rule, the slow and obvious way. */
  function expected(prev: Set<string>, o: E, all: E[], range: Map<string, Vec3>, aoi: Vec3, margin: number): Set<string> {
    const out = new Set<string>();
    for (const e of all) {
      if (e === o) continue;
      const r = range.get(e.id) ?? aoi;
      if (insideBox(e.p, o.p, r) || (prev.has(e.id) && insideBox(e.p, o.p, growVec(r, margin)))) out.add(e.id);
    }
    return out;
  }

  for (const dims of ["2D", "3D"] as const) {
    it(`random walks with far, near and default entities, ranges changing at runtime (${dims})`, () => {
      const aoi = dims === "2D" ? { x: 90, y: 70, z: 0 } : { x: 90, y: 70, z: 60 };
      const margin = 12;
      const size = { x: 1400, y: 1100, z: dims === "2D" ? 0 : 700 };
      const r = rng(dims === "2D" ? 11 : 12);
      const m = new InterestManager<E, E>(aoi, margin);
      const point = (): Vec3 => ({ x: r() * size.x, y: r() * size.y, z: r() * size.z });
      const players: E[] = Array.from({ length: 60 }, (_, i) => ({ id: `p${i}`, p: point() }));
      const items: E[] = Array.from({ length: 140 }, (_, i) => ({ id: `i${i}`, p: point() }));
      const ranges = new Map<string, Vec3>();
      const randomRange = (): Vec3 | null => {
        const k = r();
        const scale = k < 0.35 ? 1.5 + r() * 2.5 : k < 0.7 ? 0.2 + r() * 0.7 : k < 0.8 ? 1 : -1; // far, near, equal, none
        if (scale < 0) return null;
        // Sometimes larger on one axis only (a far one whose other axes are smaller).
        const lop = r() < 0.2 ? 0.5 : 1;
        return { x: aoi.x * scale, y: aoi.y * scale * lop, z: aoi.z * scale };
      };
      const setRange = (e: E, isPlayer: boolean) => {
        const range = randomRange();
        if (isPlayer) m.setPlayerRange(e, range);
        else m.setItemRange(e, range);
        if (range) ranges.set(e.id, range);
        else ranges.delete(e.id);
      };
      players.forEach((p, i) => i % 3 === 0 && setRange(p, true)); // some before placement
      for (const p of players) m.placePlayer(p, p.p);
      for (const it of items) m.placeItem(it, it.p);
      items.forEach((it, i) => i % 3 === 0 && setRange(it, false));

      const prev = new Map(players.map((p) => [p.id, new Set<string>()]));
      let farCases = 0;
      let nearHidden = 0;
      let exits = 0;
      for (let step = 0; step < 50; step++) {
        for (const e of [...players, ...items]) {
          const d = (s: number) => (s === 0 ? 0 : r() < 0.03 ? (r() - 0.5) * s : (r() - 0.5) * 50);
          e.p = { x: e.p.x + d(size.x), y: e.p.y + d(size.y), z: e.p.z + d(size.z) };
          if (players.includes(e)) m.placePlayer(e, e.p);
          else m.placeItem(e, e.p);
        }
        for (let k = 0; k < 6; k++) {
          const pick = Math.floor(r() * (players.length + items.length));
          setRange(pick < players.length ? players[pick] : items[pick - players.length], pick < players.length);
        }
        const diffs = new Map<string, { entered: string[]; left: string[] }>();
        m.update((o, p, i) => diffs.set(o.id, { entered: [...p.entered, ...i.entered].map((e) => e.id), left: [...p.left, ...i.left].map((e) => e.id) }));
        for (const o of players) {
          const before = prev.get(o.id)!;
          const want = new Set([...expected(before, o, players, ranges, aoi, margin)].filter((id) => id.startsWith("p")));
          for (const id of expected(before, o, items, ranges, aoi, margin)) want.add(id);
          const interest = m.interestOf(o)!;
          const got = new Set([...interest.players.visible, ...interest.items.visible].map((e) => e.id));
          expect(got, `observer ${o.id}, step ${step}`).toEqual(want);
          const d = diffs.get(o.id) ?? { entered: [], left: [] };
          expect(new Set(d.entered)).toEqual(new Set([...want].filter((id) => !before.has(id))));
          expect(new Set(d.left)).toEqual(new Set([...before].filter((id) => !want.has(id))));
          exits += d.left.length;
          for (const id of want) if (!insideBox([...players, ...items].find((e) => e.id === id)!.p, o.p, growVec(aoi, margin))) farCases++;
          for (const e of [...players, ...items]) {
            if (e !== o && !want.has(e.id) && insideBox(e.p, o.p, aoi)) nearHidden++;
          }
          prev.set(o.id, want);
        }
      }
      // The walk must exercise what it claims: seen beyond the AoI, hidden inside it, and exits.
      expect(farCases).toBeGreaterThan(100);
      expect(nearHidden).toBeGreaterThan(100);
      expect(exits).toBeGreaterThan(100);
    });
  }
});

describe("range and custom AoI checks", () => {
  it("a visibility range must be finite, positive, at most the cap (0 on a flat axis)", () => {
    const { m } = world();
    const e = at("e", 0);
    m.placeItem(e, e.p);
    const bad: unknown[] = [
      { x: -1, y: 10, z: 0 },
      { x: Number.NaN, y: 10, z: 0 },
      { x: Infinity, y: 10, z: 0 },
      { x: 0, y: 10, z: 0 },
      { x: 10, y: 10, z: 5 }, // z on a 2D world's flat axis
      { x: 801, y: 10, z: 0 }, // over 8x the AoI
      { x: 10, y: 10 },
    ];
    for (const range of bad) expect(() => m.setItemRange(e, range as Vec3), JSON.stringify(range)).toThrow(RangeError);
    expect(() => m.setItemRange(e, { x: 801, y: 10, z: 0 })).toThrow(/larger than the cap on x .*AoI is \{x: 100, y: 80, z: 0\}.*8x/);
    expect(m.itemRange(e)).toBeUndefined();
    m.setItemRange(e, { x: 800, y: 640, z: 0 });
    expect(m.itemRange(e)).toEqual({ x: 800, y: 640, z: 0 });
    // The cap is a setting of the manager.
    const tight = new InterestManager<E, E>(AOI, MARGIN, 2);
    tight.placeItem(e, e.p);
    expect(() => tight.setItemRange(e, { x: 201, y: 10, z: 0 })).toThrow(/at most 2x/);
    expect(checkVisibilityRange({ x: 1, y: 2, z: 3 }, { x: 1, y: 2, z: 3 }, 1)).toEqual({ x: 1, y: 2, z: 3 });
    expect(rangeKind({ x: 50, y: 200, z: 0 }, AOI)).toBe(RANGE_FAR);
  });

  it("a custom AoI larger than the room's on any axis is refused, naming both sizes", () => {
    expect(checkCustomAoi({ x: 100, y: 80, z: 0 }, AOI)).toEqual(AOI);
    expect(checkCustomAoi({ x: 5, y: 5, z: 0 }, AOI)).toEqual({ x: 5, y: 5, z: 0 });
    expect(() => checkCustomAoi({ x: 101, y: 5, z: 0 }, AOI)).toThrow(
      "custom AoI {x: 101, y: 5, z: 0} is larger than the room's AoI {x: 100, y: 80, z: 0} on x",
    );
    expect(() => checkCustomAoi({ x: 5, y: 81, z: 1 }, AOI)).toThrow(/on y, z/);
    expect(() => checkCustomAoi({ x: Number.NaN, y: 5, z: 0 }, AOI)).toThrow(RangeError);
    expect(() => checkCustomAoi({ x: -1, y: 5, z: 0 }, AOI)).toThrow(RangeError);
  });
});
