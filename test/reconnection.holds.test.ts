import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MMORoom } from "../src/framework/MMORoom";
import { parseSettings } from "../src/framework/settings";
import { WorldRegistry } from "../src/framework/worlds";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, placeAt, roomOf, until } from "./helpers/server";

// Security review (issue 20) point 5: joins that end in a dropped socket were each held for
// reconnectSeconds, with no cap: 1,000 of them took a server from 103 MB to 616 MB. Every client
// here connects from 127.0.0.1: one address.

// Each world its own limits (a worlds table), one server.
const worlds = new WorldRegistry({
  defaults: parseSettings({ reconnectSeconds: 20 }),
  table: {
    short: { settings: { reconnectSeconds: 20, shortHoldSeconds: 0.3, maxHeldPerAddress: 0 } },
    "per-address": { settings: { reconnectSeconds: 20, maxHeldPerAddress: 2, maxHeldShare: 1 } },
    "per-world": { settings: { reconnectSeconds: 20, maxHeldPerAddress: 0, maxUsers: 8, maxHeldShare: 0.5 } },
    back: { settings: { reconnectSeconds: 20, maxHeldPerAddress: 2 } },
  },
});
let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({}, MMORoom, { worlds });
});
afterAll(async () => {
  await colyseus.shutdown();
});

/** Joins and, unless `still`, takes a position and then moves (it has played). */
async function player(world: string, name: string, still = false): Promise<SDKRoom<MMOState>> {
  const c = await joinWorld(colyseus.sdk, { world, name });
  c.reconnection.enabled = false;
  if (still) return c;
  await placeAt(colyseus, c, 100, 100);
  await placeAt(colyseus, c, 120, 100);
  return c;
}

/** Cuts a client's socket on the server side (no close frame: a drop), and waits until its player is held. */
async function drop(room: MMORoom, c: SDKRoom<MMOState>): Promise<void> {
  const client = room.clients.find((x) => x.sessionId === c.sessionId)!;
  (client.ref as unknown as { terminate(): void }).terminate();
  await until(() => room.getSession(c.sessionId)?.reconnection !== undefined || !room.getSession(c.sessionId), `${c.sessionId} dropped`);
}

const held = (room: MMORoom, cs: SDKRoom<MMOState>[]) => cs.map((c) => room.getSession(c.sessionId)?.reconnection !== undefined);

describe("players held for reconnection", () => {
  it("a player that never played is held shortHoldSeconds, one that played reconnectSeconds", async () => {
    const idle = await player("short", "idle", true);
    const entered = await joinWorld(colyseus.sdk, { world: "short", name: "entered" });
    entered.reconnection.enabled = false;
    await placeAt(colyseus, entered, 300, 300); // an entry point, never a step after
    const played = await player("short", "played");
    const room = roomOf(colyseus, played);
    for (const c of [idle, entered, played]) await drop(room, c);
    await until(() => !room.getSession(idle.sessionId) && !room.getSession(entered.sessionId), "the two that never played are let go");
    expect(held(room, [played])).toEqual([true]);
  });

  it("at most maxHeldPerAddress per client address: the oldest held one of that address goes", async () => {
    const cs: SDKRoom<MMOState>[] = [];
    for (let i = 0; i < 3; i++) cs.push(await player("per-address", `p${i}`));
    const room = roomOf(colyseus, cs[0]);
    for (const c of cs) await drop(room, c);
    await until(() => !room.getSession(cs[0].sessionId), "the oldest held player of the address is let go");
    expect(held(room, cs)).toEqual([false, true, true]);
    expect(room.state.userCount).toBe(2);
  });

  it("at most maxHeldShare of maxUsers per world (at least 4): the oldest held one goes", async () => {
    const cs: SDKRoom<MMOState>[] = [];
    for (let i = 0; i < 5; i++) cs.push(await player("per-world", `p${i}`));
    const room = roomOf(colyseus, cs[0]);
    for (const c of cs) await drop(room, c);
    await until(() => !room.getSession(cs[0].sessionId), "the oldest held player of the world is let go");
    expect(held(room, cs)).toEqual([false, true, true, true, true]);
  });

  it("a held player within the caps reconnects to its session", async () => {
    const c = await joinWorld(colyseus.sdk, { world: "back", name: "back" });
    c.reconnection.minUptime = 0;
    await placeAt(colyseus, c, 100, 100);
    await placeAt(colyseus, c, 130, 100);
    const room = roomOf(colyseus, c);
    const reconnected = new Promise<void>((resolve) => c.onReconnect(() => resolve()));
    (room.clients[0].ref as unknown as { terminate(): void }).terminate();
    await reconnected;
    expect(room.getSession(c.sessionId)?.reconnection).toBeUndefined();
    expect(room.state.players.get(c.sessionId)?.x).toBe(130);
    await c.leave();
  });
});
