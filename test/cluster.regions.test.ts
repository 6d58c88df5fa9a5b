import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { CloseCodes } from "../src/shared/codes";
import { followHandoffs, joinWorld, readVar } from "../src/shared/sdk";
import { type GameProcess, hostOf, metricsText, startGameProcess, startRedis } from "./helpers/cluster";
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
const env = { MMO_WORLDS_FILE: worldsFile, MMO_DRAIN_SECONDS: "10", GAME_GEMS: "3", GAME_NPCS: "0", MMO_SNAPSHOT_SECONDS: "1" };
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
/** A region's gem ids and places, as the store keeps them (Redis: the region's snapshot key). */
async function regionGems(region: "" | "1_0"): Promise<string[]> {
  const { Redis } = await import("ioredis");
  const r = new Redis(redis.url);
  try {
    const raw = await r.get(region ? `mmo:world:split~${region}` : "mmo:world:split");
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
    const stopFollowing = followHandoffs(new Client(processes[0].endpoint), west, ({ to }) => {
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
    const text = (await Promise.all(processes.map((p) => metricsText(p.endpoint)))).join("\n");
    expect(text).toMatch(/mmo_handoffs_total\{[^}]*result="offered"[^}]*\} 1\b/);
    expect(text).toMatch(/mmo_handoffs_total\{[^}]*result="completed"[^}]*\} 1\b/);
    expect(text).not.toMatch(/result="failed"/);
    await until(() => east.state.userCount === 2, "the world counts its two users");
    stopFollowing(); // the next test follows this player's handoffs itself
  });

  it("SIGTERM drains a region's process: its players go on in their region's new room on another process, handed over as at a border (no notice, no rejoin)", async () => {
    const [west, east] = rooms;
    const now = rooms[2];
    const byAddress = (a: string | undefined) => processes.find((p) => a === `127.0.0.1:${p.port}`)!;
    const draining = byAddress(await host(east)); // hosts the east region
    expect(byAddress(await host(west))).not.toBe(draining);
    // A rolling deploy: the replacement starts, then the old process is told to stop.
    processes.push(await startGameProcess(redis.url, env));
    east.send("vars", { hat: "red" });
    await sleep(1500); // one snapshot
    const eastGems = await regionGems("1_0");
    expect(eastGems).toHaveLength(3);
    const placeOf = (r: Room<MMOState>) => ({ x: r.state.players?.get(r.sessionId)?.x, y: r.state.players?.get(r.sessionId)?.y });
    const before = [placeOf(east), placeOf(now)];
    const notices: unknown[] = [];
    const closes: number[] = [];
    const switched = new Map<Room<MMOState>, Room<MMOState>>();
    for (const r of [east, now]) {
      r.onMessage("server_shutdown", (m) => notices.push(m));
      r.onLeave((code) => closes.push(code));
      followHandoffs(new Client(processes[0].endpoint), r, ({ to }) => {
        rooms.push(to);
        switched.set(r, to);
      });
    }
    const exited = draining.stop("SIGTERM");
    await until(() => switched.size === 2, `both east players are handed to the east region's new room; the draining process said:\n${"" /* filled below on failure */}`, 15_000).catch((e: Error) => {
      throw new Error(`${e.message}${draining.output().slice(-3000)}\nthe others:\n${processes.map((p) => p.output().slice(-1500)).join("\n---\n")}`);
    });
    await until(() => closes.length === 2, "their old connections close", 5000);
    expect(closes).toEqual([CloseCodes.HANDED_OFF, CloseCodes.HANDED_OFF]);
    expect(notices).toEqual([]);
    const [eastNow, nowNow] = [switched.get(east)!, switched.get(now)!];
    expect(eastNow.roomId).toBe(nowNow.roomId);
    expect(eastNow.roomId).not.toBe(east.roomId);
    expect(byAddress(await host(eastNow))).not.toBe(draining);
    // The same players: ids, variables and places.
    expect(eastNow.sessionId).toBe(east.sessionId);
    expect(nowNow.sessionId).toBe(now.sessionId);
    await until(() => readVar(eastNow.state.players?.get(eastNow.sessionId)?.vars, "hat") === "red", "the hat went along");
    expect([placeOf(eastNow), placeOf(nowNow)]).toEqual(before);
    // The drained process left as soon as its players had switched (well within its drain).
    await exited;
    expect(await draining.exited).toBe(0);
    processes.splice(processes.indexOf(draining), 1);
    // And the same identity, still playing: a second join with its token is refused.
    await expect(joinWorld(new Client(processes[0].endpoint), { world: "split", region: "1_0", token: await tokenOf(east) })).rejects.toMatchObject({ code: 4409 });
    // The region's part of the world went on too: its new room loaded the last save (and
    // saves the same gems in turn), not a world spawned anew.
    await sleep(1500); // the new room's own snapshot
    expect(await regionGems("1_0")).toEqual(eastGems);
    // The east room's last player: test 3's neighbour observer.
    rooms.push(eastNow);
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
    const entryGems = await regionGems("");
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
    expect(await regionGems("")).toEqual(entryGems);
  });
});
