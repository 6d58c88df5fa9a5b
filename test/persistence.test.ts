import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArenaRoom } from "../src/game/ArenaRoom";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import { RedisWorldStore } from "../src/framework/persistence/RedisWorldStore";
import type { WorldSnapshot } from "../src/framework/persistence/WorldStore";
import { joinWorld } from "../src/shared/sdk";
import { startRedis } from "./helpers/cluster";
import { bootMMO, enterWithIdentity, placeAt, roomOf, sleep, until } from "./helpers/server";
import { readVar } from "../src/shared/vars";

const enter = (world: string, name: string, token?: string) => enterWithIdentity(colyseus, world, name, token);

const dir = mkdtempSync(join(tmpdir(), "mmo-persist-"));
const store = new FileWorldStore(dir);
const identity = new IdentitySigner(Buffer.from("test-secret"));
let colyseus: ColyseusTestServer;

beforeAll(async () => {
  colyseus = await bootMMO({ proximityUpdateMillis: 50, reconnectSeconds: 0 }, ArenaRoom, {
    game: { gems: 3, npcs: 0 },
    persistence: { store, identity, snapshotSeconds: 60 },
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});


describe("FileWorldStore", () => {
  it("writes atomically (no temporary file left, the previous generation kept) and reads back; a damaged file falls back to the previous generation", async () => {
    const s = new FileWorldStore(mkdtempSync(join(tmpdir(), "mmo-store-")));
    expect(await s.load("nowhere")).toBeUndefined();
    const snap: WorldSnapshot = { version: 1, savedAt: 1, nextItemId: 7, items: [], players: {} };
    await s.save("w", snap);
    await s.save("w", { ...snap, nextItemId: 8 });
    expect((await s.load("w"))?.nextItemId).toBe(8);
    expect(readdirSync(s.dir).sort()).toEqual(["world-w.json", "world-w.prev.json"]);
    writeFileSync(join(s.dir, "world-w.json"), "{ not json");
    // Logged, moved aside as world-w.corrupt-<time>.json; the previous generation is loaded.
    expect((await s.load("w"))?.nextItemId).toBe(7);
  });
});

describe("guest identities", () => {
  it("issues a token on a first join; refuses a tampered or foreign one (4401) and a second session of the same identity (4409)", async () => {
    const { room, token } = await enter("ids", "Ann");
    expect(token).toMatch(/^[\w-]+\.[\w-]+$/);
    const [id, sig] = token.split(".");
    await expect(joinWorld(colyseus.sdk, { world: "ids", token: `${id}.${sig.slice(0, -2)}xx` })).rejects.toMatchObject({ code: 4401 });
    await expect(joinWorld(colyseus.sdk, { world: "ids", token: `someoneelse.${sig}` })).rejects.toMatchObject({ code: 4401 });
    const foreign = new IdentitySigner(Buffer.from("another server")).issue().token;
    await expect(joinWorld(colyseus.sdk, { world: "ids", token: foreign })).rejects.toMatchObject({ code: 4401 });
    await expect(joinWorld(colyseus.sdk, { world: "ids", token })).rejects.toMatchObject({ code: 4409 });
    await room.leave();
  });

  it("makes names unique per world", async () => {
    const a = await enter("names", "Ann");
    const b = await enter("names", "  ann ");
    const c = await enter("names", "ANN");
    const names = [a, b, c].map(({ room }) => roomOf(colyseus, room).getSession(room.sessionId)!.player.name);
    expect(names).toEqual(["Ann", "ann (2)", "ANN (3)"]);
    await Promise.all([a, b, c].map(({ room }) => room.leave()));
  });
});

describe("a world outlives its room", () => {
  it("items with public and hidden variables, and a returning player's place and score, survive the room being disposed", async () => {
    const first = await enter("keep", "Keeper");
    const server = roomOf(colyseus, first.room);
    const chest = server.addItem("chest", { x: 321, y: 654 }, { gold: "12" }, { trap: { armed: true } });
    await placeAt(colyseus, first.room, 1234, 2345);
    server.setUserVariables(first.room.sessionId, { score: "42" });
    first.room.send("vars", { hat: "red" });
    await until(() => readVar(server.getSession(first.room.sessionId)?.player.vars, "hat") === "red", "hat set");
    const itemCount = server.state.items.size;
    await first.room.leave();
    await until(() => colyseus.getRoomById(first.room.roomId) === undefined, "the room is disposed");
    await sleep(100);

    const back = await enter("keep", "Keeper", first.token);
    expect(back.room.roomId).not.toBe(first.room.roomId);
    const restored = roomOf(colyseus, back.room);
    expect(restored.state.items.size).toBe(itemCount); // no fresh gems on top of the saved ones
    const item = restored.getItemById(chest.id)!;
    expect([item.kind, item.x, item.y, readVar(item.vars, "gold")]).toEqual(["chest", 321, 654, "12"]);
    expect(restored.getItemHiddenVariables(chest.id).get("trap")).toEqual({ armed: true });
    const me = restored.getSession(back.room.sessionId)!;
    expect(readVar(me.player.vars, "score")).toBe("42");
    expect(readVar(me.player.vars, "hat")).toBe("red");
    back.room.send("spawn");
    await until(() => !restored.getSession(back.room.sessionId)!.inLimbo, "spawned");
    expect([me.player.x, me.player.y]).toEqual([1234, 2345]);
    // A new guest does not get anyone's score.
    const stranger = await enter("keep", "Stranger");
    expect(readVar(restored.getSession(stranger.room.sessionId)!.player.vars, "score")).toBe(0);
    await Promise.all([back.room.leave(), stranger.room.leave()]);
  });

  it("saveWorld (run every snapshotSeconds, on drain and on dispose) writes the world to the store", async () => {
    const a = await enter("interval", "A");
    const server = roomOf(colyseus, a.room);
    // A world is written once someone entered it (took a position).
    await placeAt(colyseus, a.room, 5, 5);
    server.addItem("flag", { x: 1, y: 1 });
    await server.saveWorld();
    const saved = await store.load("interval");
    expect(saved?.items.some((i) => i.kind === "flag")).toBe(true);
    await a.room.leave();
  });
});

describe("RedisWorldStore", () => {
  it("saves and loads a world in Redis", async () => {
    const redis = await startRedis();
    const s = new RedisWorldStore(redis.url);
    try {
      expect(await s.load("w")).toBeUndefined();
      await s.save("w", { version: 1, savedAt: 1, nextItemId: 3, items: [], players: {} });
      expect((await s.load("w"))?.nextItemId).toBe(3);
    } finally {
      await s.close();
      await redis.stop();
    }
  });
});
