import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, freePort, onLines, startRedis } from "../scripts/lib";
import type { WorldSnapshot } from "../src/framework/persistence/WorldStore";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { sleep, until } from "./helpers/server";
import { readVar } from "../src/shared/vars";

// `npm run cluster` as an operator runs it, stopped as a terminal's Ctrl-C stops it: SIGINT
// to the whole process group. The game processes drain and write their worlds' last
// snapshots while Redis (in a group of its own) is still up; /monitor answers the one
// generated password whichever process the front door picks.

/** No line of any child may look like an ioredis connection error (Redis gone under a draining process). */
const REDIS_ERRORS = /ioredis|ECONNREFUSED|ECONNRESET|Connection is closed|MaxRetriesPerRequest/i;

interface Cluster {
  child: ChildProcess;
  front: number;
  lines: string[];
  output(): string;
  ready: string;
}

const clusters: Cluster[] = [];
const rooms: Room<MMOState>[] = [];
let ownRedis: Awaited<ReturnType<typeof startRedis>> | undefined;

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm run cluster -- --processes n --port <free>` as a process-group leader; resolves at CLUSTER READY. */
async function startCluster(processes: number, env: Record<string, string>): Promise<Cluster> {
  const front = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-ctrlc-data-")),
    PUBLIC_HOST: "127.0.0.1",
    // A player's change made just before the Ctrl-C reaches the store only with the drain's save.
    MMO_SNAPSHOT_SECONDS: "3600",
    MMO_DRAIN_SECONDS: "1",
    GAME_GEMS: "5",
    GAME_NPCS: "1",
    ...env,
  };
  // As an operator's shell has it: no test-runner NODE_ENV, no monitor password (one is generated).
  delete childEnv.NODE_ENV;
  delete childEnv.MONITOR_PASSWORD;
  delete childEnv.MONITOR_USER;
  const child = spawn("npm", ["run", "cluster", "--", "--processes", String(processes), "--port", String(front)], {
    cwd: ROOT,
    env: childEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  onLines(child.stdout, (l) => void lines.push(l));
  onLines(child.stderr, (l) => void lines.push(l));
  const cluster: Cluster = { child, front, lines, output: () => lines.join("\n"), ready: "" };
  clusters.push(cluster);
  const start = Date.now();
  while (!(cluster.ready = lines.find((l) => l.startsWith("CLUSTER READY")) ?? "")) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm run cluster exited:\n${cluster.output().slice(-3000)}`);
    if (Date.now() - start > 240_000) throw new Error(`no CLUSTER READY:\n${cluster.output().slice(-3000)}`);
    await sleep(100);
  }
  return cluster;
}

/** Ctrl-C: SIGINT to the whole group; resolves with the seconds until none of it is left. */
async function ctrlC(cluster: Cluster, ms = 60_000): Promise<number> {
  const pid = cluster.child.pid!;
  const t0 = Date.now();
  process.kill(-pid, "SIGINT");
  while (groupAlive(pid) && Date.now() - t0 < ms) await sleep(100);
  expect(groupAlive(pid), `processes of npm run cluster alive ${ms} ms after Ctrl-C:\n${cluster.output().slice(-3000)}`).toBe(false);
  return (Date.now() - t0) / 1000;
}

function monitorPassword(cluster: Cluster): string {
  const printed = cluster.lines.filter((l) => /generated password|password "/.test(l));
  // Printed once, by the cluster; no game process generates (or prints) one of its own.
  expect(printed, printed.join("\n")).toHaveLength(1);
  return /password "([^"]+)"/.exec(printed[0])![1];
}

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` });

afterAll(async () => {
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(1000)])));
  for (const r of rooms) r.reconnection.enabled = false;
  for (const c of clusters) if (c.child.pid && groupAlive(c.child.pid)) process.kill(-c.child.pid, "SIGKILL");
  for (const c of clusters) {
    const pid = /Redis \S+ \(pid (\d+)\)/.exec(c.ready)?.[1];
    if (pid && alive(Number(pid))) process.kill(Number(pid), "SIGKILL");
  }
  await ownRedis?.stop();
}, 30_000);

describe("npm run cluster, Ctrl-C", () => {
  it("one shared monitor password; after Ctrl-C the final snapshot holds the last change, no Redis errors, nothing left", async () => {
    // The test's own Redis (REDIS_URL), so the snapshots can be read after the cluster is gone.
    ownRedis = await startRedis();
    const cluster = await startCluster(2, { REDIS_URL: ownRedis.url });
    const base = `http://127.0.0.1:${cluster.front}`;
    const password = monitorPassword(cluster);

    const world = "ctrlc";
    const hat = `hat-${Date.now()}`;
    const room = await joinWorld(new Client(base), { world, name: "Op" });
    room.onMessage("identity", () => {});
    rooms.push(room);
    room.send("position", { x: 700, y: 700 });
    await until(() => room.state.players?.get(room.sessionId)?.x === 700, "placed through the front door", 8000);

    // The front door spreads requests over the processes: every one answers the same password.
    const statuses: number[] = [];
    let listed = false;
    for (let i = 0; i < 8 || !listed; i++) {
      const res = await fetch(`${base}/monitor/api`, { headers: basic(password) });
      statuses.push(res.status);
      const body = (await res.json()) as { rooms?: Array<{ metadata?: { world?: string; users?: number } }> };
      listed = body.rooms?.some((r) => r.metadata?.world === world && r.metadata.users === 1) ?? false;
      if (i > 40) break;
      if (!listed) await sleep(100);
    }
    expect(statuses.every((s) => s === 200), `statuses: ${statuses.join(",")}`).toBe(true);
    expect(listed).toBe(true);
    expect((await fetch(`${base}/monitor/api`, { headers: basic("wrong") })).status).toBe(401);

    // The change, just before Ctrl-C (no periodic snapshot will catch it: MMO_SNAPSHOT_SECONDS=3600).
    room.send("vars", { hat });
    await until(() => readVar(room.state.players?.get(room.sessionId)?.vars, "hat") === hat, "the hat applied", 5000);
    room.reconnection.enabled = false;
    const before = Date.now();
    const seconds = await ctrlC(cluster);
    console.log(`npm run cluster (2 processes) stopped ${seconds.toFixed(1)} s after Ctrl-C`);

    const redis = new Redis(ownRedis.url);
    try {
      const text = await redis.get(`mmo:world:${world}`);
      expect(text, `no snapshot of ${world}:\n${cluster.output().slice(-2000)}`).not.toBeNull();
      const snapshot = JSON.parse(text!) as WorldSnapshot;
      expect(snapshot.savedAt).toBeGreaterThanOrEqual(before);
      const me = Object.values(snapshot.players).find((p) => p.vars.hat === hat);
      expect(me, JSON.stringify(snapshot.players)).toBeDefined();
      expect(me).toMatchObject({ x: 700, y: 700 });
    } finally {
      redis.disconnect();
    }
    const bad = cluster.lines.filter((l) => REDIS_ERRORS.test(l));
    expect(bad, bad.slice(0, 10).join("\n")).toEqual([]);
    for (const m of cluster.ready.matchAll(/pid (\d+)/g)) expect(alive(Number(m[1]))).toBe(false);
  }, 300_000);

  it("with a Redis of its own: Ctrl-C does not reach Redis; it stops after the game processes exited", async () => {
    const cluster = await startCluster(1, { REDIS_URL: "" });
    const base = `http://127.0.0.1:${cluster.front}`;
    const redisPid = Number(/Redis \S+ \(pid (\d+)\)/.exec(cluster.ready)?.[1]);
    expect(redisPid).toBeGreaterThan(0);
    const room = await joinWorld(new Client(base), { world: "ctrlc-own", name: "Op" });
    room.onMessage("identity", () => {});
    rooms.push(room);
    room.send("position", { x: 500, y: 500 });
    room.send("vars", { hat: "green" });
    await until(() => readVar(room.state.players?.get(room.sessionId)?.vars, "hat") === "green", "playing through the front door", 8000);
    room.reconnection.enabled = false;

    const seconds = await ctrlC(cluster);
    console.log(`npm run cluster (1 process, own Redis) stopped ${seconds.toFixed(1)} s after Ctrl-C`);
    expect(alive(redisPid), "Redis outlived the cluster").toBe(false);
    const out = cluster.lines;
    // Redis heard only the cluster's SIGTERM, once the game process had exited.
    expect(out.some((l) => /\[redis\].*Received SIGINT/.test(l))).toBe(false);
    const gamesExited = out.findIndex((l) => l.includes("The game processes have exited: stopping Redis."));
    const redisStops = out.findIndex((l) => /\[redis\].*Received SIGTERM/.test(l));
    expect(gamesExited, cluster.output().slice(-3000)).toBeGreaterThan(-1);
    expect(redisStops).toBeGreaterThan(gamesExited);
    const bad = out.filter((l) => REDIS_ERRORS.test(l));
    expect(bad, bad.slice(0, 10).join("\n")).toEqual([]);
  }, 300_000);
});
