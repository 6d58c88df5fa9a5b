import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { type GameProcess, hostOf, metric, metricsText, startGameProcess, startRedis } from "./helpers/cluster";
import { sleep, until } from "./helpers/server";
import { readVar } from "../src/shared/vars";

// Several real server processes on a Redis of the test's own: Colyseus's own distributed
// matchmaking (RedisPresence + RedisDriver), a public address per process.
let redis: Awaited<ReturnType<typeof startRedis>>;
const processes: GameProcess[] = [];
const rooms: Room<MMOState>[] = [];

beforeAll(async () => {
  redis = await startRedis();
  processes.push(await startGameProcess(redis.url, { MMO_DRAIN_SECONDS: "2" }));
  processes.push(await startGameProcess(redis.url, { MMO_DRAIN_SECONDS: "2" }));
}, 90_000);

afterAll(async () => {
  // A room whose process is gone never answers a leave: do not wait for it.
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(2000)])));
  for (const r of rooms) r.reconnection.enabled = false;
  await Promise.allSettled(processes.map((p) => p.stop("SIGKILL")));
  await redis?.stop();
}, 60_000);

const sdk = (p: GameProcess) => new Client(p.endpoint);
const tokens = new Map<Room<MMOState>, string>();
async function join(p: GameProcess, world: string, name?: string, token?: string): Promise<Room<MMOState>> {
  const room = await joinWorld(sdk(p), { world, name, token });
  room.onMessage("identity", (m: { token: string }) => tokens.set(room, m.token));
  rooms.push(room);
  return room;
}

describe("many processes on Redis", () => {
  it("two clients entering one world through different processes share a room and see each other", async () => {
    const a = await join(processes[0], "shared", "A");
    const b = await join(processes[1], "shared", "B");
    expect(b.roomId).toBe(a.roomId);
    a.send("position", { x: 500, y: 500 });
    b.send("position", { x: 560, y: 500 });
    await until(() => a.state.players?.has(b.sessionId) === true && b.state.players?.has(a.sessionId) === true, "A and B see each other", 8000);
    a.send("chat", { text: "across processes" });
    const heard = await new Promise((resolve) => b.onMessage("chat", resolve));
    expect(heard).toMatchObject({ from: a.sessionId, text: "across processes" });
  });

  it("spreads worlds over the processes (least loaded) and /metrics reports them", async () => {
    for (const world of ["w1", "w2", "w3", "w4"]) {
      await join(processes[0], world);
      await sleep(1200); // room counts are published once a second
    }
    const hosts = await Promise.all(rooms.map((r) => hostOf(redis.url, r.roomId)));
    const addresses = new Set(hosts);
    expect(addresses.size).toBe(2);
    // Each process's gauges count exactly what it hosts.
    for (const p of processes) {
      const hosted = new Set(rooms.filter((_r, i) => hosts[i] === `127.0.0.1:${p.port}`).map((r) => r.roomId));
      const clients = rooms.filter((_r, i) => hosts[i] === `127.0.0.1:${p.port}`).length;
      expect(await metric(p.endpoint, "mmo_rooms")).toBe(hosted.size);
      expect(await metric(p.endpoint, "mmo_clients")).toBe(clients);
    }
    const text = await metricsText(processes[0].endpoint);
    for (const name of ["mmo_clients_in_limbo", "mmo_patch_encode_seconds_bucket", "mmo_aoi_update_seconds_count", "mmo_patch_bytes_sent_total", "mmo_node_nodejs_eventloop_lag_seconds"]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/process="[^"]+@127\.0\.0\.1:\d+"/);
    expect(await metric(processes[0].endpoint, "mmo_patch_bytes_sent_total")).toBeGreaterThan(0);
  });

  it("SIGTERM drains: health turns 503, clients are told, closed with 4001, and rejoin their world on another process", async () => {
    const a = rooms[0]; // in "shared"
    const host = await hostOf(redis.url, a.roomId);
    const draining = processes.find((p) => host === `127.0.0.1:${p.port}`)!;
    const survivor = processes.find((p) => p !== draining)!;
    expect((await fetch(`${draining.endpoint}/healthz`)).status).toBe(200);

    // Something this player owns, to find again after the move (the world is in Redis).
    a.send("vars", { hat: "red" });
    await sleep(300);
    expect(tokens.get(a)).toBeDefined();
    const notice = new Promise<{ seconds: number }>((resolve) => a.onMessage("server_shutdown", resolve));
    const closed = new Promise<number>((resolve) => a.onLeave((code) => resolve(code)));
    const exited = draining.stop("SIGTERM");
    expect(await notice).toEqual({ seconds: 2 });
    expect((await fetch(`${draining.endpoint}/healthz`)).status).toBe(503);
    // The world is still played during the grace period.
    expect(await closed).toBe(4001);
    await exited;
    processes.splice(processes.indexOf(draining), 1);

    const again = await join(survivor, "shared", "A again", tokens.get(a)!);
    expect(await hostOf(redis.url, again.roomId)).toBe(`127.0.0.1:${survivor.port}`);
    // The same identity, its variables and its place came along.
    again.send("spawn");
    await until(() => readVar(again.state.players?.get(again.sessionId)?.vars, "hat") === "red", "the hat survived the drain");
    expect(again.state.players?.get(again.sessionId)?.x).toBe(500);
    again.send("position", { x: 10, y: 10 });
    await until(() => again.state.players?.has(again.sessionId) === true, "playing on the survivor");
  }, 30_000);

  it("SIGKILL: the world is found again on a live process within a bounded time", async () => {
    const fresh = await startGameProcess(redis.url);
    processes.push(fresh);
    await sleep(1500); // its (empty) room count is published: it is now the least loaded
    const c = await join(processes[0], "doomed", "C");
    expect(await hostOf(redis.url, c.roomId)).toBe(`127.0.0.1:${fresh.port}`);
    await fresh.stop("SIGKILL");
    processes.splice(processes.indexOf(fresh), 1);

    const started = Date.now();
    const again = await join(processes[0], "doomed", "C again");
    const seconds = (Date.now() - started) / 1000;
    expect(await hostOf(redis.url, again.roomId)).toBe(`127.0.0.1:${processes[0].port}`);
    expect(seconds).toBeLessThan(15);
    console.log(`rejoined a world of a killed process in ${seconds.toFixed(1)} s`);
  }, 40_000);
});
