import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArenaRoom } from "../src/game/ArenaRoom";
import { joinWorld } from "../src/shared/sdk";
import { readVar } from "../src/shared/vars";
import { bootMMO, placeAt, roomOf, sleep, until } from "./helpers/server";

// The demo game in a world split into two regions (x < 1000: "", x >= 1000: "1_0"): gems and
// NPCs belong to one region and are ghosts in the other.
let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO(
    {
      mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } },
      regionSize: { x: 1000, y: 1000 },
      aoi: { x: 200, y: 200, z: 0 },
      aoiLeaveMargin: 20,
      handoffHysteresis: 48,
      proximityUpdateMillis: 50,
      maxSpeed: 300,
    },
    ArenaRoom,
    { game: { gems: 10, npcs: 6, npcRange: 900, npcSpeed: 2000 } },
  );
});
afterAll(async () => {
  await colyseus.shutdown();
});

describe("the demo game across region borders", () => {
  it("a gem across the border is the neighbour's: stepping on its ghost neither scores nor spawns a gem", async () => {
    const west = await joinWorld(colyseus.sdk, { world: "split", name: "W" });
    const east = await joinWorld(colyseus.sdk, { world: "split", name: "E", region: "1_0" });
    await placeAt(colyseus, east, 1500, 500);
    const westRoom = roomOf(colyseus, west) as unknown as ArenaRoom;
    const eastRoom = roomOf(colyseus, east) as unknown as ArenaRoom;
    // Clear the border strip, then one gem of the east's just across it.
    for (const room of [westRoom, eastRoom]) {
      for (const item of [...room.state.items.values()]) if (item.kind === "gem" && Math.abs(item.x - 1000) < 300) room.removeItem(item);
    }
    const gem = eastRoom.addItem("gem", { x: 1010, y: 500 }, { value: 1 });
    await until(() => westRoom.state.items.has(gem.id), "the gem's ghost in the west region");
    const ownItems = () => [...westRoom.state.items.values()].filter((i) => !i.id.includes(".")).length;
    const before = ownItems();
    // The west player stands on the ghost and steps about on it (within the pickup radius).
    await placeAt(colyseus, west, 995, 500);
    for (const y of [505, 495, 500, 503]) {
      west.send("position", { x: 995, y });
      await sleep(60);
    }
    await sleep(200);
    expect(readVar(westRoom.state.players.get(west.sessionId)?.vars, "score")).toBe(0);
    expect(ownItems()).toBe(before);
    expect(eastRoom.state.items.has(gem.id)).toBe(true); // still the east's, uncollected
    await Promise.all([west.leave(), east.leave()]);
  });

  it("NPCs wander inside their own region (an NPC deep in a neighbour would be seen by nobody there)", async () => {
    const west = await joinWorld(colyseus.sdk, { world: "wander", name: "W" });
    const east = await joinWorld(colyseus.sdk, { world: "wander", name: "E", region: "1_0" });
    // Own NPCs: the east region's item ids carry its name ("1_0.i3"), the entry region's none.
    const npcs = (room: ArenaRoom, east: boolean) => [...room.state.items.values()].filter((i) => i.kind === "npc" && i.id.startsWith("1_0.") === east);
    const westRoom = roomOf(colyseus, west) as unknown as ArenaRoom;
    const eastRoom = roomOf(colyseus, east) as unknown as ArenaRoom;
    // Fast NPCs with a wide range: within two seconds each picks several targets.
    const seen = { west: [] as number[], east: [] as number[] };
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      seen.west.push(...npcs(westRoom, false).map((n) => n.x));
      seen.east.push(...npcs(eastRoom, true).map((n) => n.x));
    }
    expect(seen.west.length).toBeGreaterThan(0);
    expect(seen.east.length).toBeGreaterThan(0);
    expect(Math.max(...seen.west)).toBeLessThanOrEqual(1000);
    expect(Math.min(...seen.east)).toBeGreaterThanOrEqual(1000);
    await Promise.all([west.leave(), east.leave()]);
  });
});
