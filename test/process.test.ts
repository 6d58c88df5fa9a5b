import { defineRoom } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessRoom } from "../src/bridge/ProcessRoom";
import { JSON_JOINMSG, JSON_LEAVEMSG } from "../src/bridge/settings";
import { alive, bootRooms, inbox, sleep, until } from "./helpers/server";

// The process bridge with real backends: the Python bunny example and a tiny Node one, both
// speaking ScaleSocket's --json protocol.
const JSON_MODE = { joinmsg: JSON_JOINMSG, leavemsg: JSON_LEAVEMSG };
let colyseus: ColyseusTestServer;
const pids: number[] = [];

beforeAll(async () => {
  colyseus = await bootRooms({
      bunny: defineRoom(ProcessRoom, { process: { command: ["python3", "examples/bunny/server.py"], ...JSON_MODE } }).filterBy(["room"]),
      echo: defineRoom(ProcessRoom, {
        process: { command: [process.execPath, "test/fixtures/echo-backend.mjs"], maxRestarts: 1, maxLinesPerSecond: 100, maxLineBytes: 10_000, ...JSON_MODE },
      }).filterBy(["room"]),
  });
});

afterAll(async () => {
  await colyseus.shutdown();
  // No backend outlives its room.
  await sleep(300);
  for (const pid of pids) expect(alive(pid), `backend ${pid} still running`).toBe(false);
});



const backendOf = (room: SDKRoom) => colyseus.getRoomById(room.roomId) as unknown as ProcessRoom;
/** The small integer id the backend knows a client by (ScaleSocket's ids). */
const idOf = (room: SDKRoom) => backendOf(room).idOf(backendOf(room).clients.getById(room.sessionId)!)!;

describe("the Python bunny example", () => {
  it("welcomes each player privately (_to), broadcasts the state, moves bunnies, forgets who left", async () => {
    const clients = [] as SDKRoom[];
    const boxes = [] as Map<string, unknown[]>[];
    for (let i = 0; i < 3; i++) {
      const c = await colyseus.sdk.joinOrCreate("bunny", { room: "meadow" });
      boxes.push(inbox(c));
      clients.push(c);
    }
    expect(new Set(clients.map((c) => c.roomId)).size).toBe(1);
    pids.push(backendOf(clients[0]).pid!);
    type State = { data: Record<string, { x: number; y: number }> };
    const lastState = (i: number) => (boxes[i].get("State")?.at(-1) as State | undefined)?.data ?? {};
    await until(() => boxes.every((_b, i) => Object.keys(lastState(i)).length === 3), "everyone sees three bunnies");
    // Each welcome went to its player only.
    boxes.forEach((box, i) => expect(box.get("Welcome")).toEqual([{ t: "Welcome", data: { id: idOf(clients[i]) } }]));
    expect(clients.map(idOf)).toEqual([1, 2, 3]); // small integers, as in ScaleSocket

    clients[1].send("Input", { x: 321, y: 123 });
    await until(() => boxes.every((_b, i) => lastState(i)[String(idOf(clients[1]))]?.x === 321), "the bunny moved for everyone");
    clients[1].send("Input", { x: "far", y: 123 }); // ignored by the backend
    await clients[2].leave();
    await until(() => Object.keys(lastState(0)).length === 2, "the one who left is gone");
    expect(lastState(0)[String(idOf(clients[1]))]).toEqual({ x: 321, y: 123 });
    await Promise.all(clients.slice(0, 2).map((c) => c.leave()));
  });

  it("rooms by URL: ?room=NAME selects the room", async () => {
    const a = await colyseus.sdk.joinOrCreate("bunny", { room: "one" });
    const b = await colyseus.sdk.joinOrCreate("bunny", { room: "two" });
    const c = await colyseus.sdk.joinOrCreate("bunny", { room: "one" });
    expect(a.roomId).toBe(c.roomId);
    expect(b.roomId).not.toBe(a.roomId);
    pids.push(backendOf(a).pid!, backendOf(b).pid!);
    await expect(colyseus.sdk.joinOrCreate("bunny", { room: "../x" })).rejects.toThrow(/room names/);
    await Promise.all([a, b, c].map((r) => r.leave()));
  });
});

describe("a Node backend", () => {
  it("passes client messages with the sender, connect and disconnect events, and _to targeting", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "e1" });
    const boxA = inbox(a);
    const b = await colyseus.sdk.joinOrCreate("echo", { room: "e1" });
    const boxB = inbox(b);
    pids.push(backendOf(a).pid!);
    await until(() => (boxA.get("Join") ?? []).some((m) => (m as { who: number }).who === idOf(b)), "A hears B join");
    a.send("hello", { n: 1 });
    await until(() => (boxB.get("echo")?.length ?? 0) === 1, "B gets A's message echoed");
    expect(boxB.get("echo")![0]).toEqual({ t: "echo", from: idOf(a), type: "hello", data: { n: 1 } });
    a.send("cmd", { do: "whisper", to: idOf(b) });
    await until(() => (boxB.get("secret")?.length ?? 0) === 1, "B gets the whisper");
    await sleep(100);
    expect(boxA.get("secret")).toBeUndefined();
    expect(boxB.get("secret")![0]).toEqual({ t: "secret", text: "for you only" }); // _to stripped
    const bId = idOf(b);
    await b.leave();
    await until(() => (boxA.get("Leave") ?? []).some((m) => (m as { who: number }).who === bId), "A hears B leave");
    await a.leave();
  });

  it("drops bad output lines and floods, and keeps going", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "e2" });
    const box = inbox(a);
    const room = backendOf(a);
    pids.push(room.pid!);
    a.send("cmd", { do: "garbage" });
    await until(() => (box.get("after-garbage")?.length ?? 0) === 1, "the line after the garbage arrives");
    expect(room.dropped.notJson).toBe(2);
    expect(room.dropped.tooLong).toBe(1);
    a.send("cmd", { do: "stderr" });
    await sleep(1100); // a fresh second for the rate limit
    a.send("cmd", { do: "flood" });
    await until(() => room.dropped.flood > 0, "the flood is cut");
    await sleep(300);
    expect(box.get("spam")?.length).toBeLessThanOrEqual(100);
    expect(room.dropped.flood).toBeGreaterThanOrEqual(4900);
    await sleep(1100); // the next second: the backend is heard again
    a.send("still", {});
    await until(() => (box.get("echo") ?? []).some((m) => (m as { type: string }).type === "still"), "still echoing", 3000);
    await a.leave();
  });

  it("restarts a crashed backend (maxRestarts), then closes the room and tells the clients", async () => {
    const a = await colyseus.sdk.joinOrCreate("echo", { room: "e3" });
    const box = inbox(a);
    const room = backendOf(a);
    const firstPid = room.pid!;
    pids.push(firstPid);
    a.send("cmd", { do: "crash" });
    await until(() => room.pid !== firstPid && room.pid !== undefined, "a new backend");
    pids.push(room.pid!);
    expect(alive(firstPid)).toBe(false);
    // The new backend was told who is here, and works.
    await until(() => (box.get("Join") ?? []).length >= 2, "the new backend greets the client again");
    a.send("ping", {});
    await until(() => (box.get("echo") ?? []).some((m) => (m as { type: string }).type === "ping"), "the new backend echoes");

    const left = new Promise<number>((resolve) => a.onLeave((code) => resolve(code)));
    a.send("cmd", { do: "crash" });
    expect(await left).toBe(4000);
    expect(box.get("process_exit")).toMatchObject([{ code: 3, signal: null }]);
  });
});
