import type { ColyseusTestServer } from "@colyseus/testing";
import { boot } from "@colyseus/testing";
import type { Room } from "@colyseus/sdk";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { sleep } from "./helpers/server";

// The real arena.config.ts: /monitor's room list names each world and shows its counts
// (MMORoom's listing metadata and the monitor's `columns`).
let colyseus: ColyseusTestServer;
let base: string;
const rooms: Room<MMOState>[] = [];

beforeAll(async () => {
  process.env.MMO_DATA_DIR = mkdtempSync(join(tmpdir(), "mmo-data-"));
  process.env.MONITOR_USER = "ops";
  process.env.MONITOR_PASSWORD = "monitor-test";
  process.env.MMO_MAX_USERS = "40";
  process.env.GAME_GEMS = "5";
  process.env.GAME_NPCS = "1";
  const app = (await import("../arena.config")).default;
  colyseus = await boot(app);
  base = `http://localhost:${(colyseus.server as unknown as { port: number }).port}`;
});
afterAll(async () => {
  // A room already left never answers a second leave: do not wait for it.
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(1000)])));
  await colyseus?.shutdown();
});

const auth = { authorization: `Basic ${Buffer.from("ops:monitor-test").toString("base64")}` };

interface MonitorRoom {
  roomId: string;
  name: string;
  clients: number;
  maxClients: string;
  metadata?: { world?: string; title?: string; users?: number; limbo?: number; maxUsers?: number };
}
interface MonitorList {
  columns: Array<string | { metadata: string }>;
  rooms: MonitorRoom[];
}

async function roomList(): Promise<MonitorList> {
  const res = await fetch(`${base}/monitor/api`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as MonitorList;
}

/** Polls the monitor's list until `check` holds (the listing follows counts within LISTING_REFRESH_MS). */
async function listUntil(what: string, check: (l: MonitorList) => boolean, ms = 5000): Promise<MonitorList> {
  const start = Date.now();
  let last = await roomList();
  while (!check(last)) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for: ${what}\nlast list: ${JSON.stringify(last)}`);
    await sleep(100);
    last = await roomList();
  }
  return last;
}

async function enter(world: string, name: string): Promise<Room<MMOState>> {
  const room = await joinWorld(colyseus.sdk, { world, name });
  room.onMessage("identity", () => {});
  rooms.push(room);
  return room;
}

const rowOf = (l: MonitorList, world: string) => l.rooms.find((r) => r.metadata?.world === world);

describe("/monitor room list", () => {
  it("shows two worlds by name with users, users in limbo and a finite maxUsers", async () => {
    const a = await enter("north", "A");
    await enter("north", "B"); // never positioned: in limbo
    const c = await enter("south", "C");
    a.send("position", { x: 400, y: 400 });
    c.send("position", { x: 600, y: 600 });

    const list = await listUntil("north: 2 users, 1 in limbo; south: 1 user, none in limbo", (l) => {
      const n = rowOf(l, "north")?.metadata;
      const s = rowOf(l, "south")?.metadata;
      return n?.users === 2 && n.limbo === 1 && s?.users === 1 && s.limbo === 0;
    });
    expect(list.columns).toEqual(expect.arrayContaining(["name", { metadata: "world" }, { metadata: "users" }, { metadata: "limbo" }, { metadata: "maxUsers" }]));
    expect(list.columns).not.toContain("maxClients"); // "Infinity": not the MMO room's limit
    const mmoRows = list.rooms.filter((r) => r.name === "mmo");
    expect(mmoRows.map((r) => r.metadata?.world).sort()).toEqual(["north", "south"]);
    for (const row of mmoRows) {
      expect(row.metadata?.maxUsers).toBe(40);
      expect(Number.isFinite(row.metadata?.maxUsers)).toBe(true);
    }
    expect(rowOf(list, "north")?.clients).toBe(2);
    // Undeclared worlds are titled by their name (declared ones by the worlds table's title).
    expect(rowOf(list, "north")?.metadata?.title).toBe("north");
    expect(list.columns).toContainEqual({ metadata: "title" });

    // Leaving limbo and leaving the world both reach the list.
    rooms[1].send("position", { x: 420, y: 400 });
    await listUntil("north: nobody in limbo", (l) => rowOf(l, "north")?.metadata?.limbo === 0);
    await rooms[1].leave();
    await listUntil("north: 1 user after a leave", (l) => rowOf(l, "north")?.metadata?.users === 1);
  });
});
