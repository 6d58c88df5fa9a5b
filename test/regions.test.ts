import { describe, expect, it } from "vitest";
import { parseSettings } from "../src/framework/settings";
import { World } from "../src/framework/World";
import { type GhostBatch, Ghosts } from "../src/regions/Ghosts";
import { RegionGrid } from "../src/regions/RegionGrid";
import { Player } from "../src/shared/schema";
import { readVar, writeVar } from "../src/shared/vars";

// The pure parts of a world split into regions: the grid's arithmetic and the border ghosts,
// without rooms or sockets (the room test and the oracle drive them through Colyseus).
const map = { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } };

describe("RegionGrid", () => {
  const grid = new RegionGrid(map, { x: 1000, y: 500 });

  it("splits the map into named cells, the entry cell named ''", () => {
    expect([grid.cols, grid.rows]).toEqual([2, 2]);
    expect(grid.names()).toEqual(["", "1_0", "0_1", "1_1"]);
    expect(grid.regionAt({ x: 10, y: 10, z: 0 })).toBe("");
    expect(grid.regionAt({ x: 1000, y: 499, z: 0 })).toBe("1_0");
    expect(grid.regionAt({ x: 2000, y: 1000, z: 0 })).toBe("1_1"); // the far edge belongs to the last cell
    expect(grid.bounds("1_1")).toEqual({ lower: { x: 1000, y: 500, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } });
  });

  it("knows its own regions only", () => {
    expect(grid.has("")).toBe(true);
    expect(grid.has("1_1")).toBe(true);
    for (const bad of ["0_0", "2_0", "1_2", "x", "1-0", " 1_0"]) expect(grid.has(bad)).toBe(false);
    expect(() => grid.bounds("5_5")).toThrow(/no region/);
  });

  it("keeps an entity with its region within the hysteresis, and hands it on beyond", () => {
    expect(grid.ownerWithHysteresis("", { x: 1040, y: 100, z: 0 }, 48)).toBe("");
    expect(grid.ownerWithHysteresis("", { x: 1049, y: 100, z: 0 }, 48)).toBe("1_0");
    expect(grid.ownerWithHysteresis("1_0", { x: 960, y: 100, z: 0 }, 48)).toBe("1_0");
    expect(grid.ownerWithHysteresis("1_0", { x: 940, y: 560, z: 0 }, 48)).toBe("0_1");
  });

  it("lists the neighbours within a margin of a position, corners included", () => {
    const near = (x: number, y: number, m: number) => {
      const out: string[] = [];
      grid.forNeighboursWithin(grid.regionAt({ x, y, z: 0 }), { x, y, z: 0 }, m, (r) => out.push(r));
      return out.sort();
    };
    expect(near(500, 250, 100)).toEqual([]);
    expect(near(950, 250, 100)).toEqual(["1_0"]);
    expect(near(950, 450, 100)).toEqual(["0_1", "1_0", "1_1"]);
    expect(grid.neighbours("").sort()).toEqual(["0_1", "1_0", "1_1"]);
  });

  it("is one region when regionSize is 0 or larger than the map", () => {
    expect(new RegionGrid(map, { x: 0, y: 0 }).single).toBe(true);
    expect(new RegionGrid(map, { x: 5000, y: 5000 }).names()).toEqual([""]);
  });
});

describe("Ghosts", () => {
  const settings = parseSettings({ mapLimits: map, regionSize: { x: 1000, y: 1000 }, aoi: { x: 200, y: 200, z: 0 }, aoiLeaveMargin: 20 });
  const grid = new RegionGrid(map, settings.regionSize);
  const region = (name: string) => {
    const world = new World(World.createState(settings), settings);
    return { world, ghosts: new Ghosts(world, grid, name, 220) };
  };
  const addPlayer = (world: World, id: string, x: number) => {
    const p = new Player().assign({ id, name: id.toUpperCase() });
    world.addPlayer(p);
    world.place(p, { x, y: 500, z: 0 });
    return p;
  };
  const ship = (batches: Map<string, GhostBatch>, to: string): GhostBatch => JSON.parse(JSON.stringify(batches.get(to))) as GhostBatch;

  it("mirrors own entities within the margin of a border, with their id, name and variables, and drops them once away", () => {
    const west = region("");
    const east = region("1_0");
    const p = addPlayer(west.world, "p", 900);
    addPlayer(west.world, "far", 100);
    writeVar(p.vars, "score", 3);
    const item = west.world.addItem("gem", { x: 990, y: 500 }, { value: 1 });

    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 0);
    expect([...east.world.state.players.keys()]).toEqual(["p"]);
    expect(east.world.state.players.get("p")?.name).toBe("P");
    expect(readVar(east.world.state.players.get("p")?.vars, "score")).toBe(3);
    expect(readVar(east.world.state.items.get(item.id)?.vars, "value")).toBe(1);
    // Seen by the neighbour's observers, never observing itself.
    const ghost = east.world.state.players.get("p")!;
    expect(east.world.aoi.playersNear({ x: 1100, y: 500, z: 0 })).toContain(ghost);
    expect(east.world.aoi.isObserver(ghost)).toBe(false);

    // Variables travel only when they changed (null: unchanged).
    const again = west.ghosts.collect().get("1_0")!;
    expect(again.players[0][5]).toBeNull();
    writeVar(p.vars, "score", 4);
    const changed = west.ghosts.collect().get("1_0")!;
    east.ghosts.apply(JSON.parse(JSON.stringify(changed)) as GhostBatch, 50);
    expect(readVar(ghost.vars, "score")).toBe(4);

    // Away from the border: the next batch (empty, but sent) drops it at once.
    west.world.place(p, { x: 300, y: 500, z: 0 });
    west.world.removeItem(item);
    const gone = west.ghosts.collect().get("1_0");
    expect(gone).toBeDefined();
    east.ghosts.apply(JSON.parse(JSON.stringify(gone)) as GhostBatch, 100);
    // Dropped right before the next patch (never deleted and set again within one patch).
    expect(east.world.state.players.size).toBe(1);
    expect(east.ghosts.flush()).toBe(2);
    expect(east.world.state.players.size).toBe(0);
    expect(east.world.state.items.size).toBe(0);
    // Nothing more to say: no batch at all after that.
    expect(west.ghosts.collect().has("1_0")).toBe(false);
  });

  it("mirrors an entity as far as its own visibility range reaches, and gives the ghost that range", () => {
    const west = region("");
    const east = region("1_0");
    // Margin 220 = AoI 200 + 20. A landmark 400 from the border with range 500 reaches past it;
    // a sneak 150 from it with range 50 does not (its margin is 50 + 20).
    const landmark = west.world.addItem("tower", { x: 600, y: 500 });
    west.world.aoi.setItemRange(landmark, { x: 500, y: 500, z: 0 });
    const sneak = addPlayer(west.world, "sneak", 850);
    west.world.aoi.setPlayerRange(sneak, { x: 50, y: 50, z: 0 });
    addPlayer(west.world, "plain", 850);
    const batch = ship(west.ghosts.collect(), "1_0");
    expect(batch.items.map((r) => [r[0], r[6]])).toEqual([[landmark.id, [500, 500, 0]]]);
    expect(batch.players.map((r) => [r[0], r[6]])).toEqual([["plain", undefined]]);
    east.ghosts.apply(batch, 0);
    const ghost = east.world.state.items.get(landmark.id)!;
    expect(east.world.aoi.itemRange(ghost)).toEqual({ x: 500, y: 500, z: 0 });
    // The sneak near enough: mirrored with its range; back to the AoI: the ghost's range goes too.
    west.world.place(sneak, { x: 960, y: 500, z: 0 });
    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 50);
    expect(east.world.aoi.playerRange(east.world.state.players.get("sneak")!)).toEqual({ x: 50, y: 50, z: 0 });
    west.world.aoi.setPlayerRange(sneak, null);
    west.world.aoi.setItemRange(landmark, null);
    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 100);
    expect(east.world.aoi.playerRange(east.world.state.players.get("sneak")!)).toBeUndefined();
    east.ghosts.flush();
    expect(east.world.state.items.has(landmark.id)).toBe(false); // 400 away without its range: beyond the margin
  });

  it("hands an item the game moved across the border to the region it moved into, once it takes it, never losing it", () => {
    const west = new World(World.createState(settings), settings);
    const east = new World(World.createState(settings), settings);
    const gw = new Ghosts(west, grid, "", 220, 48);
    const ge = new Ghosts(east, grid, "1_0", 220, 48);
    const crate = west.addItem("crate", { x: 990, y: 500 }, { label: "north" }, { secret: 42 });
    west.aoi.setItemRange(crate, { x: 100, y: 100, z: 0 });
    ge.apply(ship(gw.collect(), "1_0"), 0);
    expect(east.ownsItem(east.state.items.get(crate.id)!)).toBe(false); // a ghost so far
    // Within the hysteresis it stays the west's; beyond it, it is offered to the east.
    west.place(crate, { x: 1040, y: 500, z: 0 });
    expect(gw.collect().get("1_0")?.handing ?? []).toEqual([]);
    west.place(crate, { x: 1060, y: 500, z: 0 });
    const offer = ship(gw.collect(), "1_0");
    expect(offer.handing?.map((r) => r[0])).toEqual([crate.id]);
    // The offer is lost (the east region did not get it): the west keeps the item, and offers again.
    expect(west.ownsItem(crate)).toBe(true);
    const again = ship(gw.collect(), "1_0");
    expect(again.handing?.map((r) => r[0])).toEqual([crate.id]);
    // The east takes it: the same instance (its ghost), with variables, hidden variables and range.
    const ghost = east.state.items.get(crate.id)!;
    ge.apply(again, 50);
    ge.apply(again, 60); // a repeated offer: still one item, taken once
    expect(east.state.items.get(crate.id)).toBe(ghost);
    expect(east.ownsItem(ghost)).toBe(true);
    expect(readVar(ghost.vars, "label")).toBe("north");
    expect(east.hiddenVars(ghost).get("secret")).toBe(42);
    expect(east.aoi.itemRange(ghost)).toEqual({ x: 100, y: 100, z: 0 });
    expect(ghost.x).toBe(1060);
    expect(ge.takeItemMoves().arrived.map(([i, from]) => [i.id, from])).toEqual([[crate.id, ""]]);
    // Its next batch tells the west, which lets go: the item is the east's ghost there.
    const answer = ship(ge.collect(), "");
    expect(answer.took).toEqual([crate.id, crate.id]);
    gw.apply(answer, 100);
    expect(west.ownsItem(crate)).toBe(false);
    expect(west.state.items.get(crate.id)).toBe(crate); // still seen there, near the border
    expect(gw.takeItemMoves().departed.map(([i, to]) => [i.id, to])).toEqual([[crate.id, "1_0"]]);
    expect(gw.collect().get("1_0")?.handing ?? []).toEqual([]);
    // Saved by the east only.
    expect([...west.state.items.values()].filter((i) => west.ownsItem(i))).toEqual([]);
    // The east moves it on: the west's ghost follows.
    east.place(ghost, { x: 1100, y: 520, z: 0 });
    gw.apply(ship(ge.collect(), ""), 150);
    expect(crate.y).toBe(520);
  });

  it("never mirrors a ghost back, and the own entity wins over a neighbour's copy of the same id", () => {
    const west = region("");
    const east = region("1_0");
    addPlayer(west.world, "p", 990);
    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 0);
    // The east region's batch to the west holds its own entities only, not the ghost.
    const back = east.ghosts.collect().get("");
    expect(back?.players ?? []).toEqual([]);
    // A handoff in flight: both hold "p" as their own for a moment; the own copy is kept.
    const own = addPlayer(east.world, "q", 1010);
    addPlayer(west.world, "q", 990); // west's own q (a player id both hold)
    const batch = ship(west.ghosts.collect(), "1_0");
    expect(batch.players.map((r) => r[0])).toContain("q");
    east.ghosts.apply(batch, 10);
    expect(east.world.state.players.get("q")).toBe(own);
    expect(own.x).toBe(1010);
  });

  it("hands a player over without a gap: demote on the old side, adopt the same instance on the new side", () => {
    const west = region("");
    const east = region("1_0");
    const p = addPlayer(west.world, "p", 990);
    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 0);
    const ghost = east.ghosts.adopt("p")!;
    expect(ghost).toBe(east.world.state.players.get("p"));
    east.world.promoteGhost(ghost, { x: 1050, y: 500, z: 0 });
    expect(east.world.aoi.isObserver(ghost)).toBe(true);
    west.ghosts.demote(p, "1_0", 0);
    expect(west.world.state.players.get("p")).toBe(p);
    expect(west.world.aoi.isObserver(p)).toBe(false);
    // The new owner's batch now moves the old side's copy; nobody ever lost it.
    west.ghosts.apply(ship(east.ghosts.collect(), ""), 50);
    expect(west.world.state.players.get("p")?.x).toBe(1050);
  });

  it("forgets ghosts whose region stopped sending (a dead process), after the TTL", () => {
    const west = region("");
    const east = region("1_0");
    addPlayer(west.world, "p", 990);
    east.ghosts.apply(ship(west.ghosts.collect(), "1_0"), 0);
    expect(east.ghosts.expire(1000, 1500)).toBe(0);
    expect(east.ghosts.expire(1600, 1500)).toBe(1);
    expect(east.world.state.players.size).toBe(0);
  });

  it("forwards a proximity message to the neighbours its box reaches, and no others", () => {
    const west = region("");
    west.ghosts.forwardProximity({ x: 900, y: 500, z: 0 }, { x: 200, y: 200, z: 0 }, "chat", { text: "hi" });
    west.ghosts.forwardProximity({ x: 100, y: 500, z: 0 }, { x: 200, y: 200, z: 0 }, "chat", { text: "far" });
    const out = west.ghosts.collect();
    expect(out.get("1_0")?.events.map((e) => (e.message as { text: string }).text)).toEqual(["hi"]);
  });
});
