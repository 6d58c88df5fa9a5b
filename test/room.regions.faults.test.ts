import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Room as SDKRoom } from "@colyseus/sdk";
import { matchMaker } from "@colyseus/core";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MMORoom, type MMORoomOptions } from "../src/framework/MMORoom";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import { roomBudget } from "../src/ops/roomBudget";
import type { MMOState } from "../src/shared/schema";
import { followHandoffs, joinWorld, readVar } from "../src/shared/sdk";
import { bootMMO, enterWithIdentity, nextMessage, placeAt, roomOf, sleep, until } from "./helpers/server";

// A split world when things go wrong: a neighbour that cannot be reached, identities, and
// each region's part of the world kept in the store under its own key.
const settings = {
  mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } },
  regionSize: { x: 1000, y: 1000 },
  aoi: { x: 200, y: 200, z: 0 },
  aoiLeaveMargin: 20,
  handoffHysteresis: 48,
  proximityUpdateMillis: 50,
  speed: 400,
  reconnectSeconds: 0,
  maxMessagesPerSecond: 100,
};

/** The east region's room cannot be created while `down` is set (its process is gone, as matchmaking sees it). */
class FlakyRoom extends MMORoom {
  static down = false;
  static refused = 0;
  override async onCreate(options: MMORoomOptions): Promise<void> {
    if (options.region === "1_0" && FlakyRoom.down) {
      FlakyRoom.refused++;
      throw new Error("the east region's process is unreachable");
    }
    await super.onCreate(options);
  }
}

const dir = mkdtempSync(join(tmpdir(), "mmo-regions-"));
const store = new FileWorldStore(dir);
const identity = new IdentitySigner(Buffer.from("regions-secret"));
let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO(settings, FlakyRoom, { persistence: { store, identity, snapshotSeconds: 60 } });
});
afterAll(async () => {
  await colyseus.shutdown();
});

const keys = (right: boolean) => ({ up: false, down: false, left: false, right });

describe("a split world's faults", () => {
  it("a failed handoff keeps the player where it is, playing, and is retried until the neighbour is back", async () => {
    FlakyRoom.down = true;
    const { room: walker } = await enterWithIdentity(colyseus, "flaky", "Walker");
    const offers: unknown[] = [];
    walker.onMessage("handoff", (m) => offers.push(m));
    const switched: SDKRoom<MMOState>[] = [];
    followHandoffs(colyseus.sdk, walker, ({ to }) => switched.push(to));
    await placeAt(colyseus, walker, 990, 500); // a first position lies in the region joined
    await placeAt(colyseus, walker, 1040, 500);
    await placeAt(colyseus, walker, 1080, 500); // past border + hysteresis: a handoff is due
    await until(() => FlakyRoom.refused >= 2, "the handoff is tried, and retried", 5000);
    // Still the west room's own player, moving and answered.
    expect(offers).toHaveLength(0);
    expect(roomOf(colyseus, walker).getSession(walker.sessionId)).toBeDefined();
    await placeAt(colyseus, walker, 1100, 500);
    FlakyRoom.down = false;
    await until(() => switched.length === 1, "the retried handoff goes through once the neighbour is back", 5000);
    await until(() => switched[0].state?.players?.has(walker.sessionId) === true, "the east room holds the walker");
    expect(switched[0].state.players.get(walker.sessionId)!.x).toBe(1100);
    await switched[0].leave();
  });

  it("keeps the identity across a handoff: the same identity cannot join the world again elsewhere (4409)", async () => {
    const { room, token } = await enterWithIdentity(colyseus, "ids", "Ann");
    const switched: SDKRoom<MMOState>[] = [];
    followHandoffs(colyseus.sdk, room, ({ to }) => switched.push(to));
    await placeAt(colyseus, room, 990, 500);
    room.send("input", keys(true));
    await until(() => switched.length === 1, "Ann is handed to the east region", 5000);
    switched[0].send("input", keys(false));
    await expect(joinWorld(colyseus.sdk, { world: "ids", token })).rejects.toMatchObject({ code: 4409 });
    await expect(joinWorld(colyseus.sdk, { world: "ids", token, region: "1_0" })).rejects.toMatchObject({ code: 4409 });
    await switched[0].leave();
  });

  it("saves each region's part of the world under its own key, and only its own items (not the neighbours' ghosts)", async () => {
    const west = await joinWorld(colyseus.sdk, { world: "kept" });
    const east = await joinWorld(colyseus.sdk, { world: "kept", region: "1_0" });
    await placeAt(colyseus, west, 950, 500);
    await placeAt(colyseus, east, 1050, 500);
    const gem = roomOf(colyseus, east).addItem("gem", { x: 1010, y: 500 }, { value: 7 });
    const stone = roomOf(colyseus, west).addItem("stone", { x: 990, y: 500 });
    await until(() => west.state.items.has(gem.id) && east.state.items.has(stone.id), "each sees the other's item");
    await roomOf(colyseus, west).saveWorld();
    await roomOf(colyseus, east).saveWorld();
    const savedWest = await store.load("kept");
    const savedEast = await store.load("kept~1_0");
    expect(savedWest?.items.map((i) => i.id)).toEqual([stone.id]);
    expect(savedEast?.items.map((i) => i.id)).toEqual([gem.id]);
    expect(readVar(east.state.items.get(gem.id)?.vars, "value")).toBe(7);
    await west.leave();
    await east.leave();
  });

  // Colyseus disposes a room whose onCreate failed (discardRoom): this guards that it stays so
  // (a refused room subscribes to no ghost channel: MMORoom joins its region after the lock).
  it("a region room refused by the world lock (409) gives back its budget place and leaves the ghost channels as they were", async () => {
    const east = await joinWorld(colyseus.sdk, { world: "twice", region: "1_0" });
    await placeAt(colyseus, east, 1500, 500);
    const rooms = roomBudget.count("mmo");
    const channels = async () => (await matchMaker.presence.channels("mmo:ghosts:twice:*")).length;
    const before = await channels();
    // A second room for the same region (matchmaking raced, or a stale listing): the lock refuses it.
    await expect(matchMaker.createRoom("mmo", { world: "twice", region: "1_0" })).rejects.toThrow(/already live/);
    expect(roomBudget.count("mmo")).toBe(rooms);
    expect(await channels()).toBe(before);
    // No zombie: only the live room patches and publishes (its client still plays).
    await placeAt(colyseus, east, 1400, 500);
    await east.leave();
  });

  it("answers proximity queries across the border: a neighbour's player near it is in the list", async () => {
    const a = await joinWorld(colyseus.sdk, { world: "near" });
    const b = await joinWorld(colyseus.sdk, { world: "near", region: "1_0" });
    await placeAt(colyseus, a, 950, 500);
    await placeAt(colyseus, b, 1050, 500);
    const me = () => roomOf(colyseus, a).state.players.get(a.sessionId)!;
    await until(() => roomOf(colyseus, a).getProximityList(me()).some((p) => p.id === b.sessionId), "the neighbour's player is in the proximity list");
    await sleep(50);
    expect(roomOf(colyseus, a).getProximityList(me()).map((p) => p.id)).toEqual([b.sessionId]);
    await a.leave();
    await b.leave();
  });

  // Last in this file: a drain takes this test server's process out of matchmaking.
  it("a draining region with no other process to hand its players to: the notice, then the 4001 rejoin", async () => {
    const a = await joinWorld(colyseus.sdk, { world: "lonely", region: "1_0" });
    await placeAt(colyseus, a, 1500, 500);
    const room = roomOf(colyseus, a);
    const offers: unknown[] = [];
    a.onMessage("handoff", (m) => offers.push(m));
    const notice = nextMessage(a, "server_shutdown");
    const closed = new Promise<number>((resolve) => a.onLeave(resolve));
    room.onBeforeShutdown();
    expect(await notice).toEqual({ seconds: 10 });
    await room.disconnect(4001); // what the drain's timer does after drainSeconds
    expect(await closed).toBe(4001);
    expect(offers).toEqual([]);
  });
});
