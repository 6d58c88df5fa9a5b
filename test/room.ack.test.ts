import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InputAck } from "../src/shared/movement";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, inbox, placeAt, roomOf, sleep, until } from "./helpers/server";

// The `ack` of client prediction, through real sockets: only the player who moves with keys
// gets it, once per patch while it moves (or after its seq changed), with the seq it sent.
const SPEED = 400;
const PATCH_RATE = 50;

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({ aoi: { x: 300, y: 300, z: 0 }, proximityUpdateMillis: 50, speed: SPEED, patchRate: PATCH_RATE, maxMessagesPerSecond: 100 });
});
afterAll(async () => {
  await colyseus.shutdown();
});

const join = (world: string, name: string) => joinWorld(colyseus.sdk, { world, name });
const keys = (right: boolean) => ({ up: false, down: false, left: false, right });

function acks(room: SDKRoom): InputAck[] {
  const got: InputAck[] = [];
  room.onMessage("ack", (m: InputAck) => got.push(m));
  return got;
}

describe("ack", () => {
  it("reaches only the owner, carries the applied seq, and stops once the player stands still", async () => {
    const a = await join("ack", "A");
    const b = await join("ack", "B");
    await placeAt(colyseus, a, 500, 500);
    await placeAt(colyseus, b, 700, 550);
    const toA = acks(a);
    const toB = inbox(b);
    const server = () => roomOf(colyseus, a).state.players.get(a.sessionId)!;

    a.send("input", { ...keys(true), seq: 7 });
    await sleep(1000);
    const moving = toA.length;
    expect(moving).toBeGreaterThan(5);
    // Once per patch, never per simulation step.
    expect(moving).toBeLessThanOrEqual(1000 / PATCH_RATE + 3);
    expect(toA.every((m) => m.seq === 7)).toBe(true);
    // Each ack's position is exactly `ms` of the keys applied from where the player stood.
    for (const m of toA) {
      expect(m.y).toBe(500);
      expect(Math.abs(m.x - (500 + (SPEED * m.ms) / 1000))).toBeLessThan(0.5);
    }
    expect(toA.map((m) => m.ms)).toEqual([...toA.map((m) => m.ms)].sort((p, q) => p - q));

    a.send("input", { ...keys(false), seq: 8 });
    await until(() => toA.some((m) => m.seq === 8), "the release is acknowledged");
    const release = toA.find((m) => m.seq === 8)!;
    expect(release.ms).toBe(0);
    // (msgpack may carry a float32-exact value with fewer digits)
    expect(release.x).toBeCloseTo(server().x, 3);
    const after = toA.length;
    await sleep(300);
    expect(toA.length).toBe(after); // standing still: no more acks
    expect(server().x).toBeCloseTo(release.x, 3);

    // The observer saw the movement, but never an ack.
    expect(b.state.players?.get(a.sessionId)?.x).toBeCloseTo(release.x, 3);
    expect(toB.get("ack")).toBeUndefined();
    await a.leave();
    await b.leave();
  });

  it("an input without seq (an older client) moves the player and gets no ack; nor do positions", async () => {
    const a = await join("noack", "A");
    await placeAt(colyseus, a, 500, 500);
    const toA = acks(a);
    a.send("input", keys(true));
    const server = () => roomOf(colyseus, a).state.players.get(a.sessionId)!;
    await until(() => server().x > 550, "moves without seq");
    a.send("input", keys(false));
    await placeAt(colyseus, a, 300, 300);
    await sleep(200);
    expect(toA).toEqual([]);
    await a.leave();
  });

  it("keys are applied for as long as they were held, not in whole steps", async () => {
    const a = await join("exact", "A");
    await placeAt(colyseus, a, 500, 500);
    const toA = acks(a);
    // Three inputs well inside one patch interval: each is applied for the time until the next.
    a.send("input", { ...keys(true), seq: 1 });
    await sleep(20);
    a.send("input", { ...keys(false), seq: 2 });
    await until(() => toA.some((m) => m.seq === 2), "the release is acknowledged");
    const x = roomOf(colyseus, a).state.players.get(a.sessionId)!.x;
    // ~20 ms at 400 u/s is ~8 units; whole 50 ms steps would give 0 or 20.
    expect(x - 500).toBeGreaterThan(4);
    expect(x - 500).toBeLessThan(16);
    await a.leave();
  });
});
