import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatBroadcast, MMOError } from "../src/shared/protocol";
import { hasVar, readVar, readVars } from "../src/shared/vars";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, ids, nextMessage, sleep, until, placeAt, roomOf } from "./helpers/server";

const MAP = { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 2000, z: 0 } };

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({
    aoi: { x: 300, y: 300, z: 0 },
    aoiLeaveMargin: 0,
    mapLimits: MAP,
    proximityUpdateMillis: 50,
    userMaxLimboSeconds: 0.6,
    maxMessagesPerSecond: 40,
    speed: 400,
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});

const join = (world: string, name?: string) => joinWorld(colyseus.sdk, { world, name });
const serverRoom = (c: SDKRoom) => roomOf(colyseus, c);
const place = (c: SDKRoom, x: number, y: number) => placeAt(colyseus, c, x, y);


/** Collects every message of `type` a client receives. */
function collect<T>(c: SDKRoom, type: string): T[] {
  const got: T[] = [];
  c.onMessage(type, (m: T) => got.push(m));
  return got;
}

describe("limbo", () => {
  it("a user without a position is invisible, sees nothing, and is kicked with 4100 after the timeout", async () => {
    const a = await join("limbo", "A");
    await place(a, 100, 100);
    const b = await join("limbo", "B");
    await until(() => a.state.userCount === 2, "userCount counts the user in limbo");
    const errors = collect<MMOError>(b, "error");
    b.send("chat", { text: "hello?" });
    b.send("input", { up: true, down: false, left: false, right: false });
    await sleep(200); // several proximity updates
    expect(ids(a.state.players)).toEqual([a.sessionId]);
    expect(ids(b.state.players)).toEqual([]);
    expect(ids(b.state.items)).toEqual([]);
    expect(errors.map((e) => [e.code, e.request])).toEqual([
      ["IN_LIMBO", "chat"],
      ["IN_LIMBO", "input"],
    ]);

    const left = new Promise<number>((resolve) => b.onLeave((code) => resolve(code)));
    const timeout = nextMessage<MMOError>(b, "error", 2000);
    expect((await timeout).code).toBe("LIMBO_TIMEOUT");
    expect(await left).toBe(4100);
    await until(() => a.state.userCount === 1, "userCount after the kick");
    expect(serverRoom(a).state.players.has(b.sessionId)).toBe(false);
    await a.leave();
  });

  it("the first position ends limbo before the timeout", async () => {
    const a = await join("limbo2", "A");
    await sleep(300);
    await place(a, 10, 10);
    await sleep(600); // past the 0.6 s limbo timeout
    expect(serverRoom(a).state.players.has(a.sessionId)).toBe(true);
    expect(ids(a.state.players)).toEqual([a.sessionId]);
    await a.leave();
  });
});

describe("spawn", () => {
  it("lets the server pick a free entry point, once, out of limbo", async () => {
    const a = await join("spawn", "A");
    a.send("spawn");
    await until(() => a.state.players?.has(a.sessionId) === true, "spawned");
    const room = serverRoom(a);
    const p = room.state.players.get(a.sessionId)!;
    expect(room.isInsideMap(p)).toBe(true);
    const err = nextMessage<MMOError>(a, "error");
    a.send("spawn", {});
    expect(await err).toMatchObject({ code: "BAD_REQUEST", request: "spawn", message: "already positioned" });
    const bad = nextMessage<MMOError>(a, "error");
    a.send("spawn", { x: 1 });
    expect(await bad).toMatchObject({ code: "BAD_REQUEST", request: "spawn" });
    await a.leave();
  });
});

describe("map limits and movement", () => {
  it("refuses a position outside the map and keeps the old one", async () => {
    const a = await join("limits", "A");
    await place(a, 500, 500);
    for (const p of [{ x: -1, y: 10 }, { x: 10, y: 2000.001 }, { x: 1e12, y: 0 }, { x: 10, y: 10, z: 1 }]) {
      const err = nextMessage<MMOError>(a, "error");
      a.send("position", p);
      expect(await err).toMatchObject({ code: "OUT_OF_MAP", request: "position" });
    }
    const p = serverRoom(a).state.players.get(a.sessionId)!;
    expect([p.x, p.y, p.z]).toEqual([500, 500, 0]);
    // The borders themselves are inside.
    await place(a, 2000, 0);
    await a.leave();
  });

  it("moves a player while a key is held, clamped to the map, and stops on release", async () => {
    const a = await join("keys", "A");
    const b = await join("keys", "B");
    await place(a, 1900, 500);
    await place(b, 1800, 500);
    a.send("input", { up: false, down: false, left: false, right: true });
    const server = () => serverRoom(a).state.players.get(a.sessionId)!;
    await until(() => server().x === 2000, "clamped at the right edge");
    a.send("input", { up: true, down: false, left: true, right: false });
    await until(() => server().x < 1950, "moving up-left");
    a.send("input", { up: false, down: false, left: false, right: false });
    await sleep(100);
    const stopped = { x: server().x, y: server().y };
    await sleep(200);
    expect({ x: server().x, y: server().y }).toEqual(stopped);
    expect(stopped.y).toBeLessThan(500);
    // The other client sees the movement through patches.
    await until(() => Math.abs((b.state.players?.get(a.sessionId)?.x ?? 0) - stopped.x) < 1e-3, "B sees where A stopped");
    await a.leave();
    await b.leave();
  });
});

describe("hostile input", () => {
  const deep = (n: number): unknown => (n === 0 ? "x" : { a: deep(n - 1) });
  const manyVars = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
  const cases: Array<[string, unknown]> = [
    ["position", undefined],
    ["position", null],
    ["position", "10,10"],
    ["position", [10, 10]],
    ["position", {}],
    ["position", { x: 10 }],
    ["position", { x: "10", y: 10 }],
    ["position", { x: Number.NaN, y: 10 }],
    ["position", { x: Number.POSITIVE_INFINITY, y: 10 }],
    ["position", { x: 10, y: Number.NEGATIVE_INFINITY }],
    ["position", { x: 10, y: 10, z: "0" }],
    ["position", { x: 10, y: 10, w: 1 }],
    ["position", deep(50)],
    ["input", { up: 1, down: false, left: false, right: false }],
    ["input", { up: true }],
    ["input", { up: true, down: false, left: false, right: false, jump: true }],
    // `seq` is a non-negative safe integer or absent (absent: no acks, see room.ack.test.ts).
    ["input", { up: true, down: false, left: false, right: false, seq: -1 }],
    ["input", { up: true, down: false, left: false, right: false, seq: 1.5 }],
    ["input", { up: true, down: false, left: false, right: false, seq: 2 ** 53 }],
    ["input", { up: true, down: false, left: false, right: false, seq: 1e300 }],
    ["input", { up: true, down: false, left: false, right: false, seq: Number.NaN }],
    ["input", { up: true, down: false, left: false, right: false, seq: Number.POSITIVE_INFINITY }],
    ["input", { up: true, down: false, left: false, right: false, seq: "7" }],
    ["input", { up: true, down: false, left: false, right: false, seq: null }],
    ["input", { up: true, down: false, left: false, right: false, seq: [1] }],
    ["chat", {}],
    ["chat", { text: "" }],
    ["chat", { text: "   " }],
    ["chat", { text: 42 }],
    ["chat", { text: "x".repeat(201) }],
    ["chat", { text: "x".repeat(3000) }], // oversized, yet under the transport's 4 KiB frame limit
    ["chat", { text: "hi", to: "everyone" }],
    ["vars", {}],
    ["vars", []],
    ["vars", "mood"],
    ["vars", { mood: Number.NaN }], // numbers are values now (typed variables), but finite ones only
    ["vars", { "bad key": "x" }],
    ["vars", { ["k".repeat(33)]: "x" }],
    ["vars", { mood: "x".repeat(257) }],
    ["vars", JSON.parse('{"__proto__": "polluted"}')],
    ["vars", { constructor: "x" }],
    ["vars", manyVars],
    ["vars", { nested: { a: { b: { c: { d: { e: 1 } } } } } }], // objects are values now, nested at most VAR_LIMITS.maxJsonDepth
    ["teleport", { x: 1, y: 1 }],
    ["", {}],
  ];

  it("answers every malformed payload with BAD_REQUEST, changes nothing, and others never notice", async () => {
    const bad = await join("hostile", "Mallory");
    const honest = await join("hostile", "Honest");
    await place(bad, 400, 400);
    await place(honest, 450, 400);
    bad.send("vars", { mood: "calm" });
    await until(() => readVar(honest.state.players?.get(bad.sessionId)?.vars, "mood") === "calm", "honest sees the var");
    const honestErrors = collect<MMOError>(honest, "error");
    const honestChats = collect<ChatBroadcast>(honest, "chat");
    const room = serverRoom(bad);

    for (const [type, payload] of cases) {
      const label = `${type} ${JSON.stringify(payload)?.slice(0, 60)}`;
      const reply = nextMessage<MMOError>(bad, "error").catch((e: Error) => {
        throw new Error(`${label}: ${e.message}`);
      });
      bad.send(type, payload);
      const err = await reply;
      expect(err.code, label).toBe("BAD_REQUEST");
      expect(err.request ?? "").toBe(type); // an empty type may arrive as no type at all
      expect(typeof err.message).toBe("string");
      // Pace the cases so the flood guard is not what answers.
      await sleep(30);
    }
    const p = room.state.players.get(bad.sessionId)!;
    expect([p.x, p.y, p.z]).toEqual([400, 400, 0]);
    expect(readVars(p.vars)).toEqual({ mood: "calm" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(room.state.items.size).toBe(0);
    // The sender stays connected and still works.
    bad.send("chat", { text: "still here" });
    await until(() => honestChats.length === 1, "chat after the bad input");
    expect(honestErrors).toEqual([]);
    expect(honest.state.players?.get(bad.sessionId)?.x).toBe(400);
    expect(room.state.userCount).toBe(2);
    await bad.leave();
    await honest.leave();
  });

  it("closes a client whose frame is over the transport's 4 KiB limit; the others keep playing", async () => {
    const big = await join("bigframe", "B");
    const honest = await join("bigframe", "H");
    await place(big, 100, 100);
    await place(honest, 150, 100);
    const left = new Promise<number>((resolve) => big.onLeave((code) => resolve(code)));
    big.send("chat", { text: "x".repeat(100_000) });
    expect(await left).toBe(1009); // "message too big"
    await place(honest, 160, 100);
    expect(serverRoom(honest).state.players.get(honest.sessionId)?.x).toBe(160);
    await honest.leave();
  });

  it("closes a flooding client with 4002; the others keep playing", async () => {
    const flooder = await join("flood", "F");
    const honest = await join("flood", "H");
    await place(flooder, 100, 100);
    await place(honest, 150, 100);
    await until(() => honest.state.players?.has(flooder.sessionId) === true, "honest sees the flooder");
    const left = new Promise<number>((resolve) => flooder.onLeave((code) => resolve(code)));
    for (let i = 0; i < 200; i++) flooder.send("position", { x: 100 + (i % 10), y: 100 });
    expect(await left).toBe(4002);
    await until(() => honest.state.players?.has(flooder.sessionId) === false, "flooder removed at once (no reconnection)");
    expect(honest.state.userCount).toBe(1);
    await place(honest, 160, 100);
    await honest.leave();
  });
});

describe("chat and user variables reach exactly the AoI", () => {
  it("delivers chat to the sender and the users whose AoI holds it, not to far or limbo users", async () => {
    const a = await join("chat", "Alice");
    const near = await join("chat", "Near");
    const edge = await join("chat", "Edge");
    const far = await join("chat", "Far");
    const limbo = await join("chat", "Limbo");
    await place(a, 1000, 1000);
    await place(near, 1100, 1050);
    await place(edge, 1300, 700); // exactly on the AoI border
    await place(far, 1301, 1000); // one unit beyond
    const inbox = [a, near, edge, far, limbo].map((c) => collect<ChatBroadcast>(c, "chat"));
    a.send("chat", { text: "  hello world  " });
    await until(() => inbox[0].length === 1 && inbox[1].length === 1 && inbox[2].length === 1, "chat delivered");
    await sleep(150);
    expect(inbox[0][0]).toEqual({ from: a.sessionId, name: "Alice", text: "hello world" });
    expect(inbox[1]).toEqual(inbox[0]);
    expect(inbox[3]).toEqual([]);
    expect(inbox[4]).toEqual([]);
    await Promise.all([a, near, edge, far, limbo].map((c) => c.leave()));
  });

  it("user variables are visible only to clients that see the player, and can be deleted", async () => {
    const a = await join("vars", "A");
    const near = await join("vars", "Near");
    const far = await join("vars", "Far");
    await place(a, 100, 100);
    await place(near, 200, 200);
    await place(far, 1900, 1900);
    a.send("vars", { mood: "happy", level: "3" });
    await until(() => readVar(near.state.players?.get(a.sessionId)?.vars, "mood") === "happy", "near sees the vars");
    expect(far.state.players?.has(a.sessionId) ?? false).toBe(false);
    expect(readVar(a.state.players?.get(a.sessionId)?.vars, "level")).toBe("3");
    a.send("vars", { mood: null });
    await until(() => hasVar(near.state.players?.get(a.sessionId)?.vars, "mood") === false, "deleted var");
    expect(readVar(near.state.players?.get(a.sessionId)?.vars, "level")).toBe("3");
    // The far client only learns them when it comes near.
    await place(far, 150, 150);
    await until(() => readVar(far.state.players?.get(a.sessionId)?.vars, "level") === "3", "far sees vars once near");
    await Promise.all([a, near, far].map((c) => c.leave()));
  });
});
