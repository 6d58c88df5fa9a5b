// Scenarios of the security issue's player findings (issue 20, points 3, 5 and 6): names across a
// region border, connections dropped right after joining, and the teleport of a rejoin.
import WebSocket from "ws";
import { residentMB as rssMB } from "../../scripts/lib";
import { Client, type Room } from "@colyseus/sdk";
import { nameSkeleton } from "../../src/framework/names";
import type { MMOError } from "../../src/shared/protocol";
import type { MMOState } from "../../src/shared/schema";
import { followHandoffs, joinWorld } from "../../src/shared/sdk";
import type { Scenario } from "./scenarios";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A `position` frame as the SDK sends it: ROOM_DATA, the type (a msgpack fixstr), the payload (msgpack {x, y}). */
function positionFrame(x: number, y: number): Buffer {
  const uint16 = (n: number) => [0xcd, (n >> 8) & 0xff, n & 0xff];
  return Buffer.from([13, 0xa0 | 8, ...Buffer.from("position"), 0x82, 0xa1, 0x78, ...uint16(x), 0xa1, 0x79, ...uint16(y)]);
}

/**
 * One join that ends in a dropped socket: a seat from matchmaking, the WebSocket opened and
 * joined (the server sends its first frame), then the TCP connection destroyed without a close
 * frame, as a client that vanishes would. `from` is the client address its proxy names.
 */
async function droppedJoin(endpoint: string, world: string, from: string, at?: { x: number; y: number }): Promise<boolean> {
  const headers = { "content-type": "application/json", "x-forwarded-for": from };
  const res = await fetch(`${endpoint}/matchmake/joinOrCreate/mmo`, { method: "POST", headers, body: JSON.stringify({ world }) });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return false;
  }
  const seat = (await res.json()) as { roomId: string; processId: string; sessionId: string };
  const url = `${endpoint.replace(/^http/, "ws")}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}`;
  const ws = new WebSocket(url, { headers: { "x-forwarded-for": from } });
  const joined = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    ws.once("message", () => (clearTimeout(timer), resolve(true)));
    ws.once("error", () => (clearTimeout(timer), resolve(false)));
  });
  if (joined) {
    // The SDK's join acknowledgement (JOIN_ROOM), then the full state arrives.
    const stateArrived = new Promise<void>((resolve) => ws.once("message", () => resolve()));
    ws.send(Buffer.from([10]));
    await Promise.race([stateArrived, sleep(3000)]);
    if (at) {
      ws.send(positionFrame(at.x, at.y));
      await sleep(50);
    }
  }
  ws.terminate();
  return joined;
}

/** Joins with an identity and waits for the token a first join is given. */
async function guest(endpoint: string, world: string, name: string, token?: string, region?: string): Promise<{ room: Room<MMOState>; token: string }> {
  const room = await joinWorld(new Client(endpoint), { world, name, token, region });
  if (token) return { room, token };
  return { room, token: await new Promise<string>((resolve) => room.onMessage("identity", (m: { token: string }) => resolve(m.token))) };
}

/** The next `error` a client gets for `request`, or undefined after `ms`. */
function refusal(room: Room<MMOState>, request: string, ms = 2000): Promise<MMOError | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    room.onMessage("error", (e: MMOError) => e.request === request && (clearTimeout(timer), resolve(e)));
  });
}

async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await sleep(20);
  return predicate();
}

export const PLAYER_SCENARIOS: Scenario[] = [
  {
    name: "name across a border",
    // The demo's continent: four regions of 6,400 units (entry region "" west of x 6400, "1_0" east).
    async run({ server }) {
      const east = await guest(server.endpoint, "continent", "Alice", undefined, "1_0");
      east.room.send("position", { x: 6500, y: 3000 });
      const west = await guest(server.endpoint, "continent", "\u0410lice"); // a Cyrillic А
      west.room.send("position", { x: 6390, y: 3000 });
      let now: Room<MMOState> = west.room;
      followHandoffs(new Client(server.endpoint), west.room, ({ to }) => (now = to));
      await sleep(200);
      west.room.send("input", { up: false, down: false, left: false, right: true });
      const crossed = await until(() => now !== west.room, 5000);
      now.send("input", { up: false, down: false, left: false, right: false });
      await sleep(500);
      const names = [...(now.state.players?.values() ?? [])].map((p) => p.name).filter((n) => nameSkeleton(n).startsWith(nameSkeleton("Alice")));
      const own = now.state.players?.get(now.sessionId)?.name ?? "?";
      const twins = names.length - new Set(names.map(nameSkeleton)).size;
      await Promise.all([now, east.room].map((r) => r.leave().catch(() => {})));
      const renamed = own !== "\u0410lice";
      return {
        sent: 1,
        refused: renamed ? 1 : 0,
        lost: twins > 0,
        note: `${crossed ? "crossed" : "NOT handed over"}; second Alice renamed: ${own}; look-alikes in the east region: ${names.join(", ")} (${twins} twin${twins === 1 ? "" : "s"})`,
      };
    },
  },
  {
    name: "rejoin teleport",
    async run({ server }) {
      // Leave and rejoin with the same token, then jump far beyond maxSpeed (300 units/s in the demo).
      const first = await guest(server.endpoint, "teleport", "Tess");
      first.room.send("position", { x: 100, y: 100 });
      first.room.send("vars", { hat: "red" }); // progress: the world remembers her place
      await sleep(300);
      await first.room.leave();
      const back = await guest(server.endpoint, "teleport", "Tess", first.token);
      const jump = refusal(back.room, "position");
      back.room.send("position", { x: 5000, y: 5000 });
      const jumpRefused = await jump;
      // A first position in a split world, in another region than the one joined.
      const split = await guest(server.endpoint, "continent", "Rex");
      const far = refusal(split.room, "position");
      split.room.send("position", { x: 10000, y: 10000 });
      const farRefused = await far;
      await sleep(300);
      const handedOff = split.room.state.players?.get(split.room.sessionId) !== undefined;
      await Promise.all([back.room, split.room].map((r) => r.leave().catch(() => {})));
      return {
        sent: 2,
        refused: Number(jumpRefused !== undefined) + Number(farRefused !== undefined),
        lost: jumpRefused === undefined || farRefused === undefined,
        note: `rejoin jump refused: ${jumpRefused?.code ?? "no (teleported)"}; first position in another region refused: ${farRefused?.code ?? "no"}${handedOff ? " (placed!)" : ""}`,
      };
    },
  },
  {
    name: "dropped-connection memory",
    // Four client addresses behind one trusted proxy; no matchmaking rate limit in the way (the
    // attack this measures spreads its joins over ~40 addresses to stay under it).
    env: { TRUST_PROXY: "1", MMO_MATCHMAKE_PER_MINUTE: "100000" },
    async run({ server, quick }) {
      const n = quick ? 80 : 1000;
      const addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
      const rss0 = await rssMB(server.endpoint);
      let peak = rss0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await rssMB(server.endpoint).catch(() => peak));
          await sleep(250);
        }
      })();
      let refused = 0;
      // ~40 joins a second, 8 at a time.
      const started = Date.now();
      for (let i = 0; i < n; i += 8) {
        const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) => droppedJoin(server.endpoint, "dropped", addresses[(i + k) % addresses.length], { x: 1000 + ((i + k) % 20) * 10, y: 1000 }));
        refused += (await Promise.all(batch)).filter((ok) => !ok).length;
        const due = started + ((i + 8) * 1000) / 40;
        await sleep(Math.max(0, due - Date.now()));
      }
      // Past the short hold: the peak includes every hold's whole life.
      await sleep(quick ? 2000 : 3000);
      sampling = false;
      await sampler;
      return { sent: n, refused, lost: false, note: `peak RSS +${(peak - rss0).toFixed(0)} MB (${peak.toFixed(0)} MB) for ${n} dropped joins from ${addresses.length} addresses` };
    },
  },
];

