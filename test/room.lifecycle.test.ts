import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, ids, sleep, until, placeAt, roomOf } from "./helpers/server";
import { readVar } from "../src/shared/vars";

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({ proximityUpdateMillis: 50, reconnectSeconds: 1.5, maxUsers: 3 });
});
afterAll(async () => {
  await colyseus.shutdown();
});

const join = (world: string, name?: string) => joinWorld(colyseus.sdk, { world, name });
const serverRoom = (c: SDKRoom) => roomOf(colyseus, c);
const place = (c: SDKRoom, x: number, y: number) => placeAt(colyseus, c, x, y);

/** Cuts a client's socket from the server side, as a network failure would (the client sees 1006). */
function dropConnection(c: SDKRoom): void {
  const client = serverRoom(c).clients.getById(c.sessionId);
  (client!.ref as unknown as { terminate(): void }).terminate();
}


describe("worlds", () => {
  it("one room per world; no world means the default world", async () => {
    const a = await joinWorld(colyseus.sdk); // world "default"
    const b = await colyseus.sdk.joinOrCreate<MMOState>("mmo", {}); // no world option at all
    const c = await join("forest");
    expect(b.roomId).toBe(a.roomId);
    expect(c.roomId).not.toBe(a.roomId);
    expect(serverRoom(a).world).toBe("default");
    expect(serverRoom(c).world).toBe("forest");
    await place(a, 100, 100);
    await place(c, 100, 100);
    await sleep(150);
    expect(ids(a.state.players)).toEqual([a.sessionId]);
    expect(ids(c.state.players)).toEqual([c.sessionId]);
    await Promise.all([a, b, c].map((r) => r.leave()));
  });

  it("refuses a bad world name or a bad player name at join", async () => {
    await expect(colyseus.sdk.joinOrCreate("mmo", { world: "../etc" })).rejects.toThrow(/world/);
    await expect(colyseus.sdk.joinOrCreate("mmo", { world: 42 })).rejects.toThrow(/world/);
    await expect(colyseus.sdk.joinOrCreate("mmo", { world: "x".repeat(65) })).rejects.toThrow(/world/);
    await expect(colyseus.sdk.joinOrCreate("mmo", { world: "names", name: { evil: true } })).rejects.toThrow(/name/);
    const long = await join("names", `  ${"n".repeat(40)}\u0000  `);
    expect(serverRoom(long).state.players.get(long.sessionId)?.name).toBe("n".repeat(24));
    await long.leave();
  });
});

describe("a full world", () => {
  it("refuses a user over maxUsers with a clear error, and never opens a second room for the world", async () => {
    const users = [await join("full"), await join("full"), await join("full")];
    // Players, not limbo squatters (those would make room: test/integrity.test.ts).
    for (const [i, u] of users.entries()) await place(u, 100 + i, 100);
    await expect(join("full")).rejects.toThrow(/world "full" is full \(3 users\)/);
    await users[0].leave();
    const late = await join("full");
    expect(late.roomId).toBe(users[1].roomId);
    await Promise.all([...users.slice(1), late].map((c) => c.leave()));
  });
});

describe("reconnection and leaving", () => {
  it("a dropped client keeps its player (visible to others) and gets it back on reconnect", async () => {
    const a = await join("reconnect", "A");
    const b = await join("reconnect", "B");
    a.reconnection.minUptime = 0;
    await place(a, 100, 100);
    await place(b, 150, 100);
    a.send("vars", { hat: "red" });
    await until(() => readVar(b.state.players?.get(a.sessionId)?.vars, "hat") === "red", "B sees A's hat");
    const sessionId = a.sessionId;

    const dropped = new Promise<void>((resolve) => a.onDrop(() => resolve()));
    const reconnected = new Promise<void>((resolve) => a.onReconnect(() => resolve()));
    dropConnection(a);
    await dropped;
    // While dropped, the player stays in the world and in B's view; the count does not change.
    await sleep(150);
    expect(b.state.players?.has(sessionId)).toBe(true);
    expect(b.state.userCount).toBe(2);
    await reconnected;
    expect(a.sessionId).toBe(sessionId);
    const room = serverRoom(b);
    const p = room.state.players.get(sessionId)!;
    expect([p.x, p.y, readVar(p.vars, "hat")]).toEqual([100, 100, "red"]);
    // The restored client keeps playing: it still sees B and can move.
    await until(() => a.state.players?.has(b.sessionId) === true, "A sees B after reconnecting");
    await place(a, 120, 100);
    await until(() => Math.abs((b.state.players?.get(sessionId)?.x ?? 0) - 120) < 1e-3, "B sees A move after the reconnect");
    expect(room.state.userCount).toBe(2);
    await a.leave();
    await b.leave();
  });

  it("a dropped client that never comes back is removed after reconnectSeconds", async () => {
    const a = await join("gone", "A");
    const b = await join("gone", "B");
    a.reconnection.enabled = false;
    await place(a, 100, 100);
    await place(b, 150, 100);
    await until(() => b.state.players?.has(a.sessionId) === true, "B sees A");
    dropConnection(a);
    await sleep(500);
    expect(b.state.players?.has(a.sessionId)).toBe(true);
    await until(() => b.state.players?.has(a.sessionId) === false, "A removed after 1.5 s", 4000);
    expect(b.state.userCount).toBe(1);
    await b.leave();
  });

  it("a consented leave removes the player at once; userCount follows joins and leaves", async () => {
    const a = await join("leave", "A");
    const b = await join("leave", "B");
    const c = await join("leave", "C");
    await place(a, 100, 100);
    await place(b, 150, 100);
    await until(() => a.state.userCount === 3, "three users");
    await c.leave(); // in limbo
    await until(() => a.state.userCount === 2, "two users");
    await b.leave();
    await until(() => a.state.userCount === 1 && a.state.players?.has(b.sessionId) === false, "B gone at once");
    expect(serverRoom(a).state.players.size).toBe(1);
    await a.leave();
  });
});

describe("server-side API", () => {
  it("items, hidden variables, proximity queries and sendToProximity", async () => {
    const a = await join("api", "A");
    const b = await join("api", "B");
    const far = await join("api", "Far");
    await place(a, 1000, 1000);
    await place(b, 1100, 1000);
    await place(far, 3000, 3000);
    const room = serverRoom(a);
    const pa = room.state.players.get(a.sessionId)!;

    expect(room.getProximityList(pa).map((p) => p.id)).toEqual([b.sessionId]);
    expect(room.getProximityList({ x: 1000, y: 1000, z: 0 }, { x: 50, y: 50, z: 0 }).map((p) => p.id)).toEqual([a.sessionId]);
    const chest = room.addItem("chest", { x: 1010, y: 1000 }, { gold: "10" }, { trap: true });
    expect(room.getItemById(chest.id)).toBe(chest);
    expect(room.getProximityItems(pa, { x: 20, y: 20, z: 0 })).toEqual([chest]);
    room.setItemVariables(chest, { gold: "20", open: "no" });
    room.setItemHiddenVariables(chest.id, { trap: undefined, key: "k1" });
    expect([...room.getItemHiddenVariables(chest).entries()]).toEqual([["key", "k1"]]);
    await until(() => readVar(a.state.items?.get(chest.id)?.vars, "gold") === "20", "A sees the chest's new gold");
    expect(JSON.stringify(a.state.items?.get(chest.id)?.toJSON())).not.toContain("k1");

    room.setItemPosition(chest, { x: 1050, y: 1010 });
    await until(() => Math.abs((a.state.items?.get(chest.id)?.x ?? 0) - 1050) < 1e-3, "chest moved");
    expect(() => room.addItem("x", { x: -5, y: 0 })).toThrow(RangeError);
    expect(() => room.setItemPosition(chest, { x: 1e9, y: 0 })).toThrow(RangeError);
    expect(() => room.setItemVariables("nope", {})).toThrow(/no item/);

    const got: unknown[] = [];
    for (const c of [a, b, far]) c.onMessage("boom", (m) => got.push([c.sessionId, m]));
    expect(room.sendToProximity(pa, "boom", { power: 1 })).toBe(2);
    await until(() => got.length === 2, "boom delivered to A and B");
    await sleep(50);
    expect(got.map((g) => (g as [string])[0]).sort()).toEqual([a.sessionId, b.sessionId].sort());

    const spot = room.findFreePosition(64);
    expect(room.isInsideMap(spot)).toBe(true);
    expect(room.getProximityList(spot, { x: 64, y: 64, z: 0 })).toEqual([]);
    expect(room.getProximityItems(spot, { x: 64, y: 64, z: 0 })).toEqual([]);

    room.setUserPosition(b.sessionId, { x: 5000, y: 5000 });
    await until(() => Math.abs((b.state.players?.get(b.sessionId)?.x ?? 0) - 5000) < 1e-3, "server moved B");
    await Promise.all([a, b, far].map((c) => c.leave()));
  });
});
