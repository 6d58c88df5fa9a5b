import { defineRoom } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientLine, depthOf } from "../src/bridge/frames";
import { ProcessRoom } from "../src/bridge/ProcessRoom";
import { JSON_JOINMSG, JSON_LEAVEMSG } from "../src/bridge/settings";
import { rng } from "./helpers/rng";
import { alive, bootRooms, inbox, sleep, until } from "./helpers/server";

// The process bridge as an attacker sees it: raw frames below the SDK, floods, reserved
// types, backends that never read, cannot start, or leave children behind. The server must
// stay up, its memory bounded, and an honest client in the same room keep receiving.
const JSON_MODE = { joinmsg: JSON_JOINMSG, leavemsg: JSON_LEAVEMSG };
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
let colyseus: ColyseusTestServer;

beforeAll(async () => {
  colyseus = await bootRooms({
    bunny: defineRoom(ProcessRoom, { process: { command: ["python3", "examples/bunny/server.py"], ...JSON_MODE } }).filterBy(["room"]),
    echo: defineRoom(ProcessRoom, {
      process: { command: [process.execPath, "test/fixtures/echo-backend.mjs"], maxRestarts: 1, stableSeconds: 0.5, maxLinesPerSecond: 200, maxPrivateLinesPerSecond: 50, cache: { type: "all", size: 3 }, ...JSON_MODE },
    }).filterBy(["room"]),
    sleepy: defineRoom(ProcessRoom, { process: { command: [process.execPath, "test/fixtures/sleepy-backend.mjs"], maxPendingStdinBytes: 64 * 1024, maxBytesPerSecond: 1_000_000, maxMessagesPerSecond: 10_000, ...JSON_MODE } }).filterBy(["room"]),
    missing: defineRoom(ProcessRoom, { process: { command: ["/nonexistent/backend"], ...JSON_MODE } }).filterBy(["room"]),
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});

type RawSocket = { send(data: Uint8Array): void };
const socketOf = (room: SDKRoom) => (room.connection as unknown as { transport: { ws: RawSocket } }).transport.ws;
const serverRoom = (room: SDKRoom) => colyseus.getRoomById(room.roomId) as unknown as ProcessRoom;
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
/** A ROOM_DATA frame (13) of type "Input" with these msgpack bytes as its payload. */
const frame = (payload: number[]) => new Uint8Array([13, 0xa5, ...ascii("Input"), ...payload]);


/** Two bunny players: the attacker and an honest one, who counts the states it receives. */
async function meadow(name: string) {
  const honest = await colyseus.sdk.joinOrCreate("bunny", { room: name });
  const honestBox = inbox(honest);
  const attacker = await colyseus.sdk.joinOrCreate("bunny", { room: name });
  const attackerBox = inbox(attacker);
  await until(() => (honestBox.get("State")?.length ?? 0) >= 2, "the honest player sees both bunnies");
  const honestStillPlays = async () => {
    const before = honestBox.get("State")?.length ?? 0;
    honest.send("Input", { x: 10 + Math.floor(Math.random() * 100), y: 20 });
    await until(() => (honestBox.get("State")?.length ?? 0) > before, "the honest player still gets states");
  };
  return { honest, attacker, honestBox, attackerBox, honestStillPlays };
}

describe("hostile clients of the process bridge", () => {
  it("one 11-byte BigInt frame: refused with an error, the server and the room play on", async () => {
    const { attacker, attackerBox, honestStillPlays, honest } = await meadow("bigint");
    socketOf(attacker).send(frame([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await until(() => (attackerBox.get("error")?.length ?? 0) === 1, "the attacker gets an error");
    expect((attackerBox.get("error")![0] as { message: string }).message).toMatch(/BigInt|not JSON/i);
    await honestStillPlays();
    await Promise.all([honest.leave(), attacker.leave()]);
  });

  it("1,500 nested arrays (4 frames): refused, the backend never sees them, nobody is disconnected", async () => {
    const { attacker, attackerBox, honestStillPlays, honest } = await meadow("deep");
    const room = serverRoom(honest);
    const pid = room.pid;
    const nested = [...Array(1500).fill(0x91), 0xc0];
    for (let i = 0; i < 4; i++) socketOf(attacker).send(frame(nested));
    await until(() => (attackerBox.get("error")?.length ?? 0) === 4, "four errors");
    expect((attackerBox.get("error")![0] as { message: string }).message).toMatch(/nested deeper/);
    await honestStillPlays();
    expect(room.pid).toBe(pid); // no restart: the backend never saw it
    await Promise.all([honest.leave(), attacker.leave()]);
  });

  it("a burst of 100 undecodable frames: the flooder is closed (4002) at its message budget (60/s), each frame counted before it is decoded", async () => {
    const { attacker, attackerBox, honestStillPlays, honest } = await meadow("burst");
    const closed = new Promise<number>((resolve) => attacker.onLeave((code) => resolve(code)));
    // 0xc1 is the one byte msgpack never uses: not one of these frames decodes.
    for (let i = 0; i < 100; i++) socketOf(attacker).send(frame([0xc1]));
    expect(await closed).toBe(4002);
    // Answered at most once per message of its budget, never 100 times.
    expect(attackerBox.get("error")?.length ?? 0).toBeLessThanOrEqual(61);
    await honestStillPlays();
    await honest.leave();
  });

  it("over the byte rate (32 KiB/s) an SDK client is closed (4002), not answered forever", async () => {
    const { attacker, attackerBox, honestStillPlays, honest } = await meadow("bytes");
    const closed = new Promise<number>((resolve) => attacker.onLeave((code) => resolve(code)));
    const blob = "x".repeat(3000);
    for (let i = 0; i < 40; i++) attacker.send("Input", { x: 1, y: 1, blob });
    expect(await closed).toBe(4002);
    expect(attackerBox.get("error")?.length ?? 0).toBe(0);
    await honestStillPlays();
    await honest.leave();
  });

  it("reserved event types are refused: a client cannot fake Join, Leave, Connect or Disconnect", async () => {
    const { attacker, attackerBox, honestBox, honestStillPlays, honest } = await meadow("reserved");
    for (const t of ["Join", "Leave", "Connect", "Disconnect"]) attacker.send(t, { _from: 1 });
    await until(() => (attackerBox.get("error")?.length ?? 0) === 4, "four errors");
    await honestStillPlays();
    type State = { data: Record<string, unknown> };
    expect(Object.keys((honestBox.get("State")!.at(-1) as State).data)).toHaveLength(2);
    expect(honestBox.get("Welcome")).toHaveLength(1);
    await Promise.all([honest.leave(), attacker.leave()]);
  });

  it(`seeded fuzzing (FUZZ_SEED=${SEED}): random types and payloads, floods of each type; the honest player keeps playing`, async () => {
    const { attacker, honestStillPlays, honest } = await meadow("fuzz");
    const r = rng(SEED);
    const heap0 = process.memoryUsage().heapUsed;
    const types = ["Input", "Join", "Leave", "State", "Welcome", "", "x".repeat(300), "__proto__"];
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 100; i++) {
        const t = types[Math.floor(r() * types.length)];
        const kind = Math.floor(r() * 5);
        const payload =
          kind === 0 ? { x: r() * 1e9, y: -r() } : kind === 1 ? "x".repeat(Math.floor(r() * 3000)) : kind === 2 ? [Array(50).fill({ a: [1, 2, 3] })] : kind === 3 ? null : { deep: JSON.parse("[".repeat(60) + "]".repeat(60)) };
        try {
          if (attacker.connection.isOpen) attacker.send(t, payload);
        } catch {
          // The SDK itself refuses some (over its buffer): the raw-frame tests cover those.
        }
      }
      await sleep(20);
    }
    await sleep(300);
    await honestStillPlays();
    // Bounded: what the server kept for this storm (no queue grows with it).
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 1024 * 1024);
    // The flood guard (maxMessagesPerSecond) has closed the attacker by now.
    await honest.leave();
    if (attacker.connection.isOpen) await attacker.leave();
  });

  it("a backend that never reads: client messages are dropped at the stdin cap, memory stays bounded", async () => {
    const a = await colyseus.sdk.joinOrCreate("sleepy", { room: "nap" });
    a.onMessage("*", () => {});
    const room = serverRoom(a);
    const rss0 = process.memoryUsage().rss;
    const blob = "x".repeat(3000);
    // 300 x 3 KB: twice the pipe and the cap, and within the room's byte rate (1 MB/s).
    for (let i = 0; i < 300; i++) a.send("Input", { blob });
    await until(() => room.dropped.busy > 0, "messages dropped at the cap");
    await sleep(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
    await a.leave();
  });

  it("a backend is started by the spawner, not by the server (whose event loop a spawn would block until the exec), and its stdio still works", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "parent" });
    const box = inbox(a);
    a.send("cmd", { do: "ppid" });
    await until(() => (box.get("ppid")?.length ?? 0) === 1, "the backend tells its parent");
    const ppid = (box.get("ppid")![0] as { ppid: number }).ppid;
    expect(ppid).not.toBe(process.pid);
    expect(alive(ppid)).toBe(true);
    a.send("cmd", { do: "stderr" }); // stderr is a stream of its own: the room keeps going
    a.send("Input", { x: 1 });
    await until(() => (box.get("echo")?.length ?? 0) >= 1, "stdin and stdout still carry lines");
    await a.leave();
  });

  it("the backend's whole process group ends with the room", async () => {
    const a = await colyseus.sdk.joinOrCreate("sleepy", { room: "group" });
    const box = inbox(a);
    await until(() => (box.get("grandchild")?.length ?? 0) === 1, "the backend started a grandchild");
    const grandchild = (box.get("grandchild")![0] as { pid: number }).pid;
    expect(alive(grandchild)).toBe(true);
    await a.leave();
    await until(() => !alive(grandchild), "the grandchild is gone", 8000);
  });

  it("a backend that cannot be started: the room is not opened, the client is told why", async () => {
    await expect(colyseus.sdk.joinOrCreate("missing", { room: "nowhere" })).rejects.toThrow(/backend .*not found/);
    expect(colyseus.getRoomById("nowhere")).toBeUndefined();
  });

  it("a broadcast flood a client triggers does not starve another player's private lines", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "fair" });
    const b = await colyseus.sdk.joinOrCreate("echo", { room: "fair" });
    const boxB = inbox(b);
    a.onMessage("*", () => {});
    const bId = serverRoom(b).idOf(serverRoom(b).clients.getById(b.sessionId)!)!;
    a.send("cmd", { do: "flood" }); // 5,000 broadcast lines at once
    a.send("cmd", { do: "whisper", to: bId });
    await until(() => (boxB.get("secret")?.length ?? 0) === 1, "the private line got through");
    expect(serverRoom(a).dropped.flood).toBeGreaterThan(0);
    await Promise.all([a.leave(), b.leave()]);
  });

  it("a crashed backend restarts with backoff; the failure count resets after a stable period", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "phoenix" });
    const box = inbox(a);
    const room = serverRoom(a);
    for (let i = 0; i < 3; i++) {
      const pid = room.pid;
      a.send("cmd", { do: "crash" });
      await until(() => room.pid !== pid && (box.get("Join")?.length ?? 0) >= i + 2, `restart ${i + 1}`);
      await sleep(700); // past stableSeconds: the count starts again
    }
    expect(box.get("process_exit")).toBeUndefined();
    await a.leave();
  });
});

describe("ScaleSocket semantics of the bridge", () => {
  it("the backend sees only PATH (passenv) and the CGI variables, never the server's secrets", async () => {
    process.env.IDENTITY_SECRET_PROBE = "must-not-leak";
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "env", query: "color=red&n=2" });
    const box = inbox(a);
    a.send("env");
    await until(() => (box.get("env")?.length ?? 0) === 1, "the backend's environment");
    const env = (box.get("env")![0] as { env: Record<string, string> }).env;
    expect(env.ROOM).toBe("env");
    expect(env.QUERY_STRING).toBe("color=red&n=2");
    expect(env.REMOTE_ADDR).toBeTypeOf("string");
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.IDENTITY_SECRET_PROBE).toBeUndefined();
    expect(Object.keys(env).sort()).toEqual(["PATH", "QUERY_STRING", "REMOTE_ADDR", "ROOM"].filter((k) => k in env).sort());
    await a.leave();
  });

  it("_meta lines become the room's metadata (not sent); --cache replays the last lines to a late joiner", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "meta" });
    const boxA = inbox(a);
    a.send("meta", { players: 7 });
    await until(() => serverRoom(a).meta?.players === 7, "metadata stored");
    expect(boxA.get("message")).toBeUndefined();
    for (let i = 0; i < 5; i++) a.send("note", { i });
    await until(() => (boxA.get("echo")?.length ?? 0) === 5, "five echoes");
    const late = await colyseus.sdk.joinOrCreate("echo", { room: "meta" });
    const boxLate = inbox(late);
    await until(() => (boxLate.get("echo")?.length ?? 0) >= 3, "the late joiner gets the cache");
    expect((boxLate.get("echo") as Array<{ data: { i: number } }>).slice(0, 3).map((m) => m.data.i)).toEqual([2, 3, 4]);
    await Promise.all([a.leave(), late.leave()]);
  });

  it("clientLine refuses cycles, shared nodes, BigInt and oversized messages without throwing", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    // A cycle is infinitely deep: the walk stops one past the limit.
    expect(depthOf(cyclic, 32)).toBe(33);
    expect(clientLine(cyclic, 1, { maxDepth: 32, maxBytes: 1000 })).toMatchObject({ ok: false, reason: /nested deeper than 32/ });
    // 2^30 paths through 30 shared arrays: refused after maxBytes values, not walked path by path.
    let shared: unknown[] = [1];
    for (let i = 0; i < 30; i++) shared = [shared, shared];
    expect(clientLine({ shared }, 1, { maxDepth: 32, maxBytes: 1000 })).toMatchObject({ ok: false, reason: /more than 1000 values/ });
    expect(depthOf([[[1]], [2]], 32)).toBe(3);
    expect(depthOf({ a: { b: { c: 1 } } }, 1)).toBe(2);
    expect(clientLine({ n: 10n }, 1, { maxDepth: 32, maxBytes: 1000 })).toMatchObject({ ok: false, reason: /not JSON/ });
    expect(clientLine({ s: "x".repeat(2000) }, 1, { maxDepth: 32, maxBytes: 1000 })).toMatchObject({ ok: false });
    expect(clientLine({ t: "Input", data: { x: 1 } }, 7, { maxDepth: 32, maxBytes: 1000 })).toEqual({ ok: true, line: '{"t":"Input","data":{"x":1},"_from":7}' });
  });
});


describe("join and leave message templates", () => {
  it("#ID and #QUERY_name are filled in (query values JSON-escaped)", async () => {
    const { fillTemplate } = await import("../src/bridge/frames");
    expect(fillTemplate('{"t":"Join","_from":#ID,"name":"#QUERY_name"}', 7, new URLSearchParams('name=Ada "the" 1st'))).toBe('{"t":"Join","_from":7,"name":"Ada \\"the\\" 1st"}');
    expect(fillTemplate("hello #ID #QUERY_missing.", 2, new URLSearchParams())).toBe("hello 2 .");
  });
});
