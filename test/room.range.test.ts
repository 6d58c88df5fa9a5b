import { createServer } from "node:net";
import { defineRoom } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import { type ColyseusTestServer, boot } from "@colyseus/testing";
import config from "@colyseus/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Vec3 } from "../src/aoi";
import { MMORoom } from "../src/framework/MMORoom";
import { PlayerMemory } from "../src/framework/PlayerMemory";
import { parseSettings } from "../src/framework/settings";
import { World } from "../src/framework/World";
import { restoreSnapshot, takeSnapshot } from "../src/framework/worldSnapshot";
import type { MMOState } from "../src/shared/schema";
import { type ProximityUpdate, joinWorld, onProximityUpdate } from "../src/shared/sdk";
import { ids, sleep, until } from "./helpers/server";

// Per-entity visibility ranges and the custom-AoI rule through real WebSockets. Proximity
// updates are driven by hand (room.updateProximity()) so what each client sees is exact.
const AOI = { x: 300, y: 200, z: 0 };
const MARGIN = 40;
const MAP = { lower: { x: 0, y: 0, z: 0 }, higher: { x: 4000, y: 3000, z: 0 } };

/** A free port (the default test port may be taken by another suite running on this machine). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  const settings = { aoi: AOI, aoiLeaveMargin: MARGIN, mapLimits: MAP, proximityUpdateMillis: 2_000_000_000, maxVisibilityRange: 4 };
  const rooms = { mmo: defineRoom(MMORoom, { settings }).filterBy(["world"]) };
  colyseus = await boot(config({ displayLogs: false, rooms }), await freePort());
});
afterAll(async () => {
  await colyseus.shutdown();
});

async function join(world: string, name: string): Promise<SDKRoom<MMOState>> {
  return joinWorld(colyseus.sdk, { world, name });
}

function serverRoom(client: SDKRoom): MMORoom {
  return colyseus.getRoomById(client.roomId) as unknown as MMORoom;
}

/** Sends a position and waits until the server applied it. */
async function moveTo(room: MMORoom, client: SDKRoom, p: Vec3): Promise<void> {
  client.send("position", p);
  await until(() => room.state.players.get(client.sessionId)?.x === p.x && room.state.players.get(client.sessionId)?.y === p.y, "position applied");
}

describe("per-entity visibility ranges through real WebSockets", () => {
  it("a far-visible item is seen from beyond the AoI, a sneaking player only up close, with proximity events", async () => {
    const a = await join("range", "A");
    const sneak = await join("range", "Sneak");
    const room = serverRoom(a);
    const updates: ProximityUpdate[] = [];
    onProximityUpdate(a, (u) => updates.push(u));

    const tower = room.addItem("tower", { x: 1150, y: 100 });
    const gem = room.addItem("gem", { x: 1150, y: 150 });
    room.setVisibilityRange(tower, { x: 1200, y: 800, z: 0 });
    expect(room.getVisibilityRange(tower)).toEqual({ x: 1200, y: 800, z: 0 });
    // Set while in limbo: applies once the sneak is placed.
    room.setVisibilityRange(room.getSession(sneak.sessionId)!.client, { x: 60, y: 60, z: 0 });
    await moveTo(room, a, { x: 100, y: 100, z: 0 });
    await moveTo(room, sneak, { x: 300, y: 100, z: 0 });
    room.updateProximity();

    // A: the tower 1050 away (beyond its AoI, inside its box of the tower's range), not the gem next to it.
    await until(() => a.state.items?.has(tower.id) === true, "A sees the far tower");
    await until(() => updates.some((u) => u.addedItems.some((i) => i.id === tower.id)), "tower in a proximity update");
    expect(ids(a.state.items)).toEqual([tower.id]);
    expect(a.state.items.has(gem.id)).toBe(false);
    expect(updates.flatMap((u) => u.addedItems).find((i) => i.id === tower.id)!.entryPoint).toEqual({ x: 1150, y: 100, z: 0 });
    // The sneak is inside A's AoI but outside A's box of its range: A does not see it; it sees A.
    await until(() => sneak.state.players?.has(a.sessionId) === true, "the sneak sees A");
    await sleep(100);
    expect(ids(a.state.players)).toEqual([a.sessionId]);

    // Close enough: the sneak enters A's view (an ordinary add, with its entry point).
    await moveTo(room, sneak, { x: 150, y: 120, z: 0 });
    room.updateProximity();
    await until(() => a.state.players?.has(sneak.sessionId) === true, "A sees the sneak up close");
    await until(() => updates.some((u) => u.addedUsers.some((p) => p.id === sneak.sessionId)), "sneak in a proximity update");
    expect(updates.flatMap((u) => u.addedUsers).find((p) => p.id === sneak.sessionId)!.entryPoint).toEqual({ x: 150, y: 120, z: 0 });
    // In the band (beyond 60, within 60 + margin): still seen.
    await moveTo(room, sneak, { x: 190, y: 120, z: 0 });
    room.updateProximity();
    await sleep(100);
    expect(a.state.players.has(sneak.sessionId)).toBe(true);
    // Beyond its range + margin (still deep inside A's AoI): removed.
    await moveTo(room, sneak, { x: 210, y: 120, z: 0 });
    room.updateProximity();
    await until(() => !a.state.players.has(sneak.sessionId), "the sneak is gone for A");
    await until(() => updates.some((u) => u.removedUsers.includes(sneak.sessionId)), "sneak removal reported");

    // Removing the tower's range: it is beyond A's AoI + margin, so A loses it.
    room.setVisibilityRange(tower, null);
    expect(room.getVisibilityRange(tower)).toBeUndefined();
    room.updateProximity();
    await until(() => !a.state.items.has(tower.id), "the tower is gone for A");
    await until(() => updates.some((u) => u.removedItems.includes(tower.id)), "tower removal reported");
    await Promise.all([a, sneak].map((c) => c.leave()));
  });

  it("chat and sendToProximity keep the AoI rule: ranges change who is seen, not who hears", async () => {
    const a = await join("range-chat", "A");
    const sneak = await join("range-chat", "Sneak");
    const boss = await join("range-chat", "Boss");
    const room = serverRoom(a);
    await moveTo(room, a, { x: 100, y: 100, z: 0 });
    await moveTo(room, sneak, { x: 300, y: 100, z: 0 });
    await moveTo(room, boss, { x: 1000, y: 100, z: 0 });
    room.setVisibilityRange(room.state.players.get(sneak.sessionId)!, { x: 60, y: 60, z: 0 });
    room.setVisibilityRange(room.state.players.get(boss.sessionId)!, { x: 1200, y: 800, z: 0 });
    room.updateProximity();
    await until(() => a.state.players?.has(boss.sessionId) === true && !a.state.players.has(sneak.sessionId), "A sees the boss, not the sneak");

    const heard = new Map<string, string[]>();
    for (const c of [a, sneak, boss]) {
      heard.set(c.sessionId, []);
      c.onMessage("chat", (m: { text: string }) => heard.get(c.sessionId)!.push(m.text));
    }
    // The sneak's chat reaches A (inside the sneak's AoI) although A does not see the sneak.
    sneak.send("chat", { text: "psst" });
    // The boss's chat does not reach A (outside the boss's AoI) although A sees the boss.
    boss.send("chat", { text: "roar" });
    await until(() => heard.get(a.sessionId)!.includes("psst") && heard.get(boss.sessionId)!.includes("roar"), "chat delivered");
    await sleep(150);
    expect(heard.get(a.sessionId)).toEqual(["psst"]);
    expect(heard.get(sneak.sessionId)).toEqual(["psst"]);
    expect(heard.get(boss.sessionId)).toEqual(["roar"]);
    // Proximity queries are the querier's box too.
    const pa = room.state.players.get(a.sessionId)!;
    expect(room.getProximityList(pa).map((p) => p.id)).toEqual([sneak.sessionId]);
    const pinged: string[] = [];
    for (const c of [a, sneak, boss]) c.onMessage("ping", () => pinged.push(c.sessionId));
    expect(room.sendToProximity(pa, "ping", {})).toBe(2);
    await until(() => pinged.length === 2, "pings delivered");
    await sleep(100);
    expect(pinged.sort()).toEqual([a.sessionId, sneak.sessionId].sort());
    await Promise.all([a, sneak, boss].map((c) => c.leave()));
  });

  it("a custom AoI larger than the room's on any axis throws, naming both sizes; bad ranges throw", async () => {
    const a = await join("range-checks", "A");
    const room = serverRoom(a);
    await moveTo(room, a, { x: 100, y: 100, z: 0 });
    const pa = room.state.players.get(a.sessionId)!;
    a.onMessage("ping", () => {});
    const both = /custom AoI \{x: 301, y: 10, z: 0\} is larger than the room's AoI \{x: 300, y: 200, z: 0\} on x/;
    expect(() => room.getProximityList(pa, { x: 301, y: 10, z: 0 })).toThrow(both);
    expect(() => room.getProximityItems(pa, { x: 301, y: 10, z: 0 })).toThrow(both);
    expect(() => room.sendToProximity(pa, "ping", {}, { x: 301, y: 10, z: 0 })).toThrow(both);
    expect(() => room.getProximityList(pa, { x: 10, y: 10, z: 1 })).toThrow(/on z/);
    expect(() => room.getProximityList({ x: 5, y: 5, z: 0 }, { x: Number.NaN, y: 1, z: 0 })).toThrow(RangeError);
    // At most the AoI is fine, and smaller narrows the query.
    expect(room.getProximityList(pa, AOI)).toEqual([]);
    expect(room.sendToProximity(pa, "ping", {}, { x: 10, y: 10, z: 0 })).toBe(1);

    const item = room.addItem("tower", { x: 500, y: 500 });
    expect(() => room.setVisibilityRange(item, { x: 1201, y: 10, z: 0 })).toThrow(/larger than the cap on x .*at most 4x/);
    expect(() => room.setVisibilityRange(item, { x: 0, y: 10, z: 0 })).toThrow(/x must be positive/);
    expect(() => room.setVisibilityRange(item, { x: 10, y: 10, z: 3 })).toThrow(RangeError);
    expect(() => room.setVisibilityRange(item, { x: Infinity, y: 10, z: 0 })).toThrow(RangeError);
    expect(room.getVisibilityRange(item)).toBeUndefined();
    room.removeItem(item);
    expect(() => room.setVisibilityRange(item, { x: 10, y: 10, z: 0 })).toThrow(/no item/);
    await a.leave();
  });
});

describe("visibility ranges in world snapshots", () => {
  it("an item's range is saved and restored; one the new settings refuse is dropped, the item kept", () => {
    const settings = parseSettings({ aoi: AOI, mapLimits: MAP });
    const world = new World(World.createState(settings), settings);
    const tower = world.addItem("tower", { x: 100, y: 100 });
    const gem = world.addItem("gem", { x: 200, y: 100 });
    world.aoi.setItemRange(tower, { x: 1200, y: 800, z: 0 });
    const snapshot = JSON.parse(JSON.stringify(takeSnapshot(world, new PlayerMemory(new Map()), [])));
    expect(snapshot.items.find((i: { id: string }) => i.id === gem.id).range).toBeUndefined();

    const again = new World(World.createState(settings), settings);
    restoreSnapshot(again, new PlayerMemory(new Map()), snapshot);
    expect(again.aoi.itemRange(again.requireItem(tower.id))).toEqual({ x: 1200, y: 800, z: 0 });
    expect(again.aoi.itemRange(again.requireItem(gem.id))).toBeUndefined();

    const smaller = parseSettings({ aoi: { x: 100, y: 100, z: 0 }, mapLimits: MAP });
    const tight = new World(World.createState(smaller), smaller);
    restoreSnapshot(tight, new PlayerMemory(new Map()), snapshot);
    expect(tight.requireItem(tower.id).kind).toBe("tower");
    expect(tight.aoi.itemRange(tight.requireItem(tower.id))).toBeUndefined();
  });
});
