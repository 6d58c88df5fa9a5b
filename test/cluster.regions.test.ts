import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { followHandoffs, joinWorld, readVar } from "../src/shared/sdk";
import { type GameProcess, hostOf, startGameProcess, startRedis } from "./helpers/cluster";
import { sleep, until } from "./helpers/server";

// A world split into two regions over real server processes (two, then a replacement) on a Redis of the test's own:
// each region is an ordinary room that matchmaking places; ghosts cross processes through
// Redis pub/sub, a handoff crosses them through a seat reservation, and a region whose
// process dies comes back elsewhere from the store.
let redis: Awaited<ReturnType<typeof startRedis>>;
const processes: GameProcess[] = [];
const rooms: Room<MMOState>[] = [];
const dir = mkdtempSync(join(tmpdir(), "mmo-cluster-regions-"));
const worldsFile = join(dir, "worlds.json");
writeFileSync(
  worldsFile,
  JSON.stringify({
    split: {
      title: "Two regions",
      settings: {
        mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } },
        regionSize: { x: 1000, y: 1000 },
        aoi: { x: 200, y: 200, z: 0 },
        aoiLeaveMargin: 20,
        proximityUpdateMillis: 50,
        speed: 400,
        reconnectSeconds: 0,
      },
    },
  }),
);

// Three gems per region (the demo game's), saved every second.
const env = { MMO_WORLDS_FILE: worldsFile, MMO_DRAIN_SECONDS: "1", GAME_GEMS: "3", GAME_NPCS: "0", MMO_SNAPSHOT_SECONDS: "1" };
beforeAll(async () => {
  redis = await startRedis();
  processes.push(await startGameProcess(redis.url, env));
  processes.push(await startGameProcess(redis.url, env));
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(1000)])));
  for (const r of rooms) r.reconnection.enabled = false;
  await Promise.allSettled(processes.map((p) => p.stop("SIGKILL")));
  await redis?.stop();
}, 60_000);

const tokens = new Map<Room, Promise<string>>();
async function enter(p: GameProcess, name: string, region?: string, token?: string): Promise<Room<MMOState>> {
  const room = await joinWorld(new Client(p.endpoint), { world: "split", name, region, token });
  tokens.set(room, new Promise((resolve) => room.onMessage("identity", (m: { token: string }) => resolve(m.token))));
  rooms.push(room);
  return room;
}
const tokenOf = (r: Room) => tokens.get(r)!;
const host = (r: Room) => hostOf(redis.url, r.roomId);
/** The entry region's gem ids, as the store keeps them (Redis: the world's snapshot key). */
async function entryRegionGems(): Promise<string[]> {
  const { Redis } = await import("ioredis");
  const r = new Redis(redis.url);
  try {
    const raw = await r.get("mmo:world:split"); // the east region's is mmo:world:split~1_0
    const snap = raw ? (JSON.parse(raw) as { items: { id: string; kind: string; x: number; y: number }[] }) : { items: [] };
    // Ids and random spawn places: a world spawned anew would have the same ids, not the same places.
    return snap.items.filter((i) => i.kind === "gem").map((i) => `${i.id}@${i.x},${i.y}`).sort();
  } finally {
    r.disconnect();
  }
}

describe("a split world over two processes", () => {
  it("places the regions on different processes; ghosts and a handoff cross between them", async () => {
    const west = await enter(processes[0], "West");
    await sleep(1200); // room counts are published once a second: the next room goes to the other process
    const east = await enter(processes[0], "East", "1_0");
    // Matchmaking picks the least loaded process for each new region room.
    expect(await host(west)).not.toBe(await host(east));
    west.send("position", { x: 960, y: 500 });
    east.send("position", { x: 1100, y: 500 });
    await until(() => west.state.players?.has(east.sessionId) === true && east.state.players?.has(west.sessionId) === true, "each sees the other across processes", 8000);

    const switched: Room<MMOState>[] = [];
    followHandoffs(new Client(processes[0].endpoint), west, ({ to }) => {
      rooms.push(to);
      switched.push(to);
    });
    west.send("input", { up: false, down: false, left: false, right: true });
    await until(() => switched.length === 1, "the west player is handed to the east region on the other process", 8000);
    const now = switched[0];
    expect(now.roomId).toBe(east.roomId);
    expect(now.sessionId).toBe(west.sessionId);
    now.send("input", { up: false, down: false, left: false, right: false });
    await until(() => now.state.players?.has(now.sessionId) === true, "the new room holds the player");
    // Counted on both processes' metrics: offered and completed, none failed.
    // Counted by the source region's process: offered and completed, none failed.
    const text = (await Promise.all(processes.map(async (p) => (await fetch(`${p.endpoint}/metrics`)).text()))).join("\n");
    expect(text).toMatch(/mmo_handoffs_total\{[^}]*result="offered"[^}]*\} 1\b/);
    expect(text).toMatch(/mmo_handoffs_total\{[^}]*result="completed"[^}]*\} 1\b/);
    expect(text).not.toMatch(/result="failed"/);
    await until(() => east.state.userCount === 2, "the world counts its two users");
  });

  it("SIGTERM drains a region's process: its players are told, closed with 4001, and rejoin their region (identity, variables, place) on another process", async () => {
    const [west, east] = rooms;
    const now = rooms[2];
    const byAddress = (a: string | undefined) => processes.find((p) => a === `127.0.0.1:${p.port}`)!;
    const draining = byAddress(await host(east)); // hosts the east region
    expect(byAddress(await host(west))).not.toBe(draining);
    // A rolling deploy: the replacement starts, then the old process is told to stop.
    processes.push(await startGameProcess(redis.url, env));
    const token = await tokenOf(east);
    east.send("vars", { hat: "red" });
    await sleep(300);
    const notice = new Promise<{ seconds: number }>((resolve) => east.onMessage("server_shutdown", resolve));
    const closed = new Promise<number>((resolve) => east.onLeave((code) => resolve(code)));
    const closedToo = new Promise<number>((resolve) => now.onLeave((code) => resolve(code)));
    const exited = draining.stop("SIGTERM");
    expect(await notice).toEqual({ seconds: 1 });
    expect(await closed).toBe(4001);
    expect(await closedToo).toBe(4001);
    await exited;
    processes.splice(processes.indexOf(draining), 1);
    // Rejoining its region ("1_0", as regionOf(room) tells the client): recreated elsewhere, from the store.
    const again = await enter(processes[0], "East again", "1_0", token);
    expect(byAddress(await host(again))).toBeDefined();
    again.send("spawn");
    await until(() => readVar(again.state.players?.get(again.sessionId)?.vars, "hat") === "red", "the hat survived the drain");
    expect(again.state.players?.get(again.sessionId)?.x).toBe(1100);
  }, 40_000);

  it("a region whose process dies comes back on the other process, from the store, and its player rejoins it", async () => {
    const east = rooms[rooms.length - 1]; // the east region's player, back after the drain
    const byAddress = (a: string | undefined) => processes.find((p) => a === `127.0.0.1:${p.port}`)!;
    const doomed = byAddress(await host(rooms[0])); // hosts the entry region
    const survivor = processes.find((p) => p !== doomed)!;
    expect(byAddress(await host(east))).toBe(survivor);
    // A player in the entry region (on the doomed process, which hosts it) with an item to keep.
    const c = await enter(survivor, "Carol");
    expect(await host(c)).toBe(`127.0.0.1:${doomed.port}`);
    c.send("position", { x: 980, y: 520 });
    await until(() => east.state.players?.has(c.sessionId) === true, "the east region sees Carol's ghost");
    // The entry region's own gems, as its last snapshot holds them.
    await sleep(1500); // one snapshot
    const entryGems = await entryRegionGems();
    expect(entryGems).toHaveLength(3);
    c.reconnection.enabled = false;
    let dropped = false;
    c.onLeave(() => (dropped = true));
    await doomed.stop("SIGKILL");
    await until(() => dropped, "Carol's connection drops with its process", 8000);
    // Its ghost does not linger in the neighbour: no batch refreshes it any more.
    await until(() => east.state.players?.has(c.sessionId) === false, "the dead region's ghost expires", 8000);
    // Rejoining its region: matchmaking has only the survivor left to create it on.
    const back = await enter(survivor, "Carol", "");
    expect(await host(back)).toBe(`127.0.0.1:${survivor.port}`);
    back.send("position", { x: 980, y: 520 });
    await until(() => east.state.players?.has(back.sessionId) === true, "the recreated region's player is seen across the border again", 8000);
    // The same gems: the region was re-created from its snapshot, not spawned anew.
    await sleep(1500); // the new room's own snapshot, after it loaded the old one
    expect(await entryRegionGems()).toEqual(entryGems);
  });
});
