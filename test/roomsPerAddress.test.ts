import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, TEST_MONITOR_PASSWORD, metricsText, startServer } from "../scripts/lib";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { sleep } from "./helpers/server";

// Security review, issue 20 (4): rooms one address creates. A real server in production mode;
// each test speaks from its own addresses (X-Forwarded-For, one trusted proxy). Colyseus's seat
// reservation is stretched to 60 s, so a room that closes within the deadlines below was
// closed by the room's own empty check, not by an expired seat.
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({
    env: {
      TRUST_PROXY: "1",
      COLYSEUS_SEAT_RESERVATION_TIME: "60",
      PROCESS_COMMAND: `${process.execPath} test/fixtures/echo-backend.mjs`,
      GAME_GEMS: "1",
      GAME_NPCS: "0",
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.stop("SIGKILL");
});

function matchmake(room: string, body: unknown, ip: string): Promise<Response> {
  return fetch(`${server.endpoint}/matchmake/joinOrCreate/${room}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
  });
}

interface Listed {
  name: string;
  metadata?: { world?: string; region?: string };
}

/** The live rooms, from /monitor's API. */
async function live(): Promise<Listed[]> {
  const auth = `Basic ${Buffer.from(`admin:${TEST_MONITOR_PASSWORD}`).toString("base64")}`;
  const res = await fetch(`${server.endpoint}/monitor/api`, { headers: { authorization: auth } });
  return ((await res.json()) as { rooms: Listed[] }).rooms;
}
const hasWorld = (rooms: Listed[], world: string, region = "") => rooms.some((r) => r.metadata?.world === world && (r.metadata.region ?? "") === region);

/** Polls until `check` holds, or fails after `ms` naming what it waited for. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await sleep(250);
  }
}

describe("rooms per address (4)", () => {
  it("one address creates at most MMO_ROOMS_PER_ADDRESS (4) live rooms on a process, worlds and process rooms together; the next is refused 429 and counted; others and joins are not affected", async () => {
    const ip = "198.51.100.20";
    for (let i = 0; i < 4; i++) expect((await matchmake("mmo", { world: `mine-${i}` }, ip)).status).toBe(200);
    const refused = await matchmake("mmo", { world: "mine-4" }, ip);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toMatch(/as many live rooms on this server as it may \(4\)/);
    // A process room spawns a backend: the same quota.
    expect((await matchmake("process", { room: "mine-p" }, ip)).status).toBe(429);
    // Joining a world that exists is no creation; another address creates its own.
    expect((await matchmake("mmo", { world: "mine-0" }, ip)).status).toBe(200);
    expect((await matchmake("mmo", { world: "theirs-0" }, "198.51.100.21")).status).toBe(200);
    expect(await metricsText(server.endpoint)).toMatch(/mmo_rooms_refused_per_address_total\{type="mmo"[^}]*\} 1\b/);
    // Its worlds are abandoned (no seat used): they close, and the address may create again.
    await eventually("the address's quota back", async () => (await matchmake("mmo", { world: "mine-5" }, ip)).status === 200);
  }, 40_000);

  it("a world created by a matchmaking call whose seat is never used closes within seconds", async () => {
    expect((await matchmake("mmo", { world: "abandoned" }, "198.51.100.30")).status).toBe(200);
    expect(hasWorld(await live(), "abandoned")).toBe(true);
    await eventually("the abandoned world closed", async () => !hasWorld(await live(), "abandoned"));
  }, 30_000);

  it("a region room everyone left closes within seconds; one that holds a neighbour's ghost stays while that player is near", async () => {
    // The built-in "continent": 2x2 regions of 6400 units. Bea plays in region 1_0, then leaves.
    const bea = await joinWorld(new Client(server.endpoint), { world: "continent", region: "1_0", name: "Bea" });
    bea.send("position", { x: 9000, y: 3000 });
    await sleep(300);
    await bea.leave();
    await eventually("region 1_0 everyone left closed", async () => !hasWorld(await live(), "continent", "1_0"));

    // Ada stands in region "" by its border with 1_0; 1_0's room (opened by Bea again) holds her ghost.
    const ada: Room<MMOState> = await joinWorld(new Client(server.endpoint), { world: "continent", name: "Ada" });
    ada.send("position", { x: 6350, y: 3000 });
    const bea2 = await joinWorld(new Client(server.endpoint), { world: "continent", region: "1_0", name: "Bea" });
    bea2.send("position", { x: 9000, y: 3000 });
    await sleep(500);
    await bea2.leave();
    // Longer than a room may stay empty: the ghost keeps region 1_0 open.
    await sleep(8000);
    expect(hasWorld(await live(), "continent", "1_0")).toBe(true);
    // Ada walks away from the border: her ghost expires there, and the region closes.
    ada.send("position", { x: 6350 - 250, y: 3000 });
    for (let x = 6100; x > 5000; x -= 250) {
      await sleep(900);
      ada.send("position", { x, y: 3000 });
    }
    await eventually("region 1_0 without ghosts closed", async () => !hasWorld(await live(), "continent", "1_0"));
    expect(hasWorld(await live(), "continent", "")).toBe(true);
    await ada.leave();
  }, 90_000);
});
