import { existsSync, mkdtempSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import { ArenaRoom } from "../src/game/ArenaRoom";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, enterWithIdentity, placeAt, roomOf, sleep, until } from "./helpers/server";
import { readVar } from "../src/shared/vars";

const enter = (world: string, name: string, token?: string) => enterWithIdentity(colyseus, world, name, token);

// A world is one room, cluster-wide, and its saves never race: the split-brain, rejoin,
// limbo-squatting, storage-budget and stale-socket reproductions of the security issue.
const dir = mkdtempSync(join(tmpdir(), "mmo-integrity-"));
const store = new FileWorldStore(dir);
const identity = new IdentitySigner(Buffer.from("integrity-test-secret-0123456789abcdef"));
let colyseus: ColyseusTestServer;

beforeAll(async () => {
  colyseus = await bootMMO({ proximityUpdateMillis: 50, reconnectSeconds: 5, maxUsers: 8, maxLimboShare: 0.25, drainSeconds: 0 }, ArenaRoom, {
    game: { gems: 2, npcs: 0 },
    persistence: { store, identity, snapshotSeconds: 60 },
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});


describe("one live room per world", () => {
  it("a `create` for a live world is refused (WORLD_IN_USE), so one identity cannot play it twice", async () => {
    const ada = await enter("split", "Ada");
    await placeAt(colyseus, ada.room, 100, 100);
    await expect(colyseus.sdk.create("mmo", { world: "split", name: "Ada", token: ada.token })).rejects.toMatchObject({ code: 409 });
    await expect(colyseus.sdk.create("mmo", { world: "split" })).rejects.toMatchObject({ code: 409 });
    // The same identity cannot join the live room a second time either.
    await expect(joinWorld(colyseus.sdk, { world: "split", token: ada.token })).rejects.toMatchObject({ code: 4409 });
    await ada.room.leave();
  });
});

describe("saves that never race", () => {
  it("leave and rejoin the same world within milliseconds, 10 times: the variables come back every time", async () => {
    const first = await enter("rejoin", "Rita");
    const { token } = first;
    let { room } = first;
    await placeAt(colyseus, room, 300, 300);
    for (let i = 0; i < 10; i++) {
      room.send("vars", { round: String(i) });
      await until(() => readVar(roomOf(colyseus, room).getSession(room.sessionId)?.player.vars, "round") === String(i), `round ${i} set`);
      await room.leave();
      ({ room } = await enter("rejoin", "Rita", token));
      const vars = roomOf(colyseus, room).getSession(room.sessionId)!.player.vars;
      expect(readVar(vars, "round"), `rejoin ${i}`).toBe(String(i));
    }
    await room.leave();
  }, 60_000);

  it("a world nobody entered is not written; a guest who earned nothing is not remembered", async () => {
    const lurker = await enter("nobody", "Lurker");
    await roomOf(colyseus, lurker.room).saveWorld();
    expect(existsSync(join(dir, "world-nobody.json"))).toBe(false);
    await lurker.room.leave();

    const a = await enter("budget", "Keeper");
    await placeAt(colyseus, a.room, 50, 50);
    a.room.send("vars", { hat: "red" });
    const room = roomOf(colyseus, a.room);
    await until(() => readVar(room.getSession(a.room.sessionId)?.player.vars, "hat") === "red", "hat set");
    // Fresh guests who walk in and out with nothing earned (only the default score "0").
    for (let i = 0; i < 3; i++) {
      const g = await enter("budget", `guest${i}`);
      await placeAt(colyseus, g.room, 60 + i, 50);
      await g.room.leave();
    }
    const snapshot = room.snapshot();
    expect(Object.values(snapshot.players).map((p) => p.name)).toEqual(["Keeper"]);
    await a.room.leave();
  });
});

describe("limbo cannot keep players out", () => {
  /** Joins `n` clients that never send a position; records how each one is closed. */
  async function squat(world: string, n: number, closes: number[]): Promise<SDKRoom<MMOState>[]> {
    const open: SDKRoom<MMOState>[] = [];
    for (let i = 0; i < n; i++) {
      const s = await joinWorld(colyseus.sdk, { world });
      s.onLeave((code) => {
        closes.push(code);
        open.splice(open.indexOf(s), 1);
      });
      open.push(s);
    }
    return open;
  }

  it("limbo users hold at most their share of the world (maxLimboShare, at least 4): beyond, the oldest goes", async () => {
    const closes: number[] = [];
    const squatters = await squat("squat-share", 6, closes);
    await until(() => closes.length === 2, "the two oldest squatters are closed");
    expect(closes).toEqual([4100, 4100]);
    expect(roomOf(colyseus, squatters[0]).limboCount()).toBe(4);
    await Promise.all(squatters.map((s) => s.leave().catch(() => {})));
  });

  it("a world full of players and squatters: the oldest squatter makes room for a joining player", async () => {
    const players: SDKRoom<MMOState>[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await joinWorld(colyseus.sdk, { world: "squat-full", name: `p${i}` });
      await placeAt(colyseus, p, 10 + i, 10);
      players.push(p);
    }
    const closes: number[] = [];
    const squatters = await squat("squat-full", 4, closes);
    const server = roomOf(colyseus, players[0]);
    expect(server.state.userCount).toBe(8); // maxUsers
    const real = await joinWorld(colyseus.sdk, { world: "squat-full", name: "Real" });
    await placeAt(colyseus, real, 50, 50);
    expect(server.getSession(real.sessionId)?.inLimbo).toBe(false);
    await until(() => closes.length === 1, "one squatter is closed");
    expect(closes).toEqual([4100]);
    await Promise.all([...players, real, ...squatters].map((s) => s.leave().catch(() => {})));
  });
});

describe("reconnection over a half-open socket", () => {
  it("a client whose old socket the server still holds reconnects and resumes its player", async () => {
    // The client talks through a relay; cutting only the client side leaves the server's
    // socket open (half-open), so the SDK's reconnection meets its own stale connection,
    // which Colyseus closes with 4002.
    const serverPort = (colyseus.server as unknown as { port: number }).port;
    const upstreams: Socket[] = [];
    const downstreams: Socket[] = [];
    const relay = createServer((down) => {
      const up = connect(serverPort, "127.0.0.1");
      // end: false, so closing one side does not close the other: a half-open connection.
      down.pipe(up, { end: false });
      up.pipe(down, { end: false });
      down.on("error", () => {});
      up.on("error", () => {});
      upstreams.push(up);
      downstreams.push(down);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as { port: number }).port;
    const { room, token } = await (async () => {
      const r = await joinWorld(new Client(`http://127.0.0.1:${relayPort}`), { world: "stale", name: "Hal" });
      const t = await new Promise<string>((resolve) => r.onMessage("identity", (m: { token: string }) => resolve(m.token)));
      return { room: r, token: t };
    })();
    expect(token).toBeTruthy();
    // No automatic reconnection: the client reconnects explicitly (as a reloaded page does
    // with its reconnection token), which makes Colyseus close the stale socket with 4002.
    room.reconnection.enabled = false;
    await placeAt(colyseus, room, 500, 500);
    room.send("vars", { hat: "green" });
    const server = roomOf(colyseus, room);
    await until(() => readVar(server.getSession(room.sessionId)?.player.vars, "hat") === "green", "hat set");
    // Cut the client side only: the server keeps its end of the TCP connection.
    const { reconnectionToken, sessionId } = room;
    for (const down of downstreams) {
      down.unpipe();
      down.destroy();
    }
    await sleep(100);
    expect(server.getSession(sessionId)).toBeDefined();
    const again = await colyseus.sdk.reconnect<MMOState>(reconnectionToken);
    expect(again.sessionId).toBe(sessionId);
    await sleep(100);
    const session = server.getSession(sessionId);
    expect(readVar(session?.player.vars, "hat")).toBe("green");
    expect([session?.player.x, session?.player.y]).toEqual([500, 500]);
    await again.leave();
    for (const s of [...upstreams, ...downstreams]) s.destroy();
    relay.close();
  }, 30_000);
});

describe("private variables never leave for another client", () => {
  /** Every byte a client receives from now on, before the SDK decodes it. */
  function record(room: SDKRoom): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const events = (room.connection as unknown as { events: { onmessage: (e: { data: ArrayBuffer }) => void } }).events;
    const onmessage = events.onmessage;
    events.onmessage = (e) => {
      frames.push(new Uint8Array(e.data.slice(0)));
      onmessage(e);
    };
    return frames;
  }
  const latin1 = (frames: Uint8Array[]) => frames.map((f) => Buffer.from(f).toString("latin1")).join("\n");

  it("a neighbour's raw stream holds none of a player's private variables nor an item's hidden ones; the owner's holds its own", async () => {
    const MARK = "PRIVMARK-7f3a";
    const alice = await enter("private-raw", "Alice");
    const bob = await enter("private-raw", "Bob");
    const aliceFrames = record(alice.room);
    const bobFrames = record(bob.room);
    await placeAt(colyseus, alice.room, 400, 400);
    await placeAt(colyseus, bob.room, 420, 400);
    const room = roomOf(colyseus, alice.room);
    await until(() => bob.room.state.players?.get(alice.room.sessionId) !== undefined, "Bob sees Alice");
    // Set by the owner, and by the server; a public variable next to them, and an item with a hidden one, all in Bob's AoI.
    alice.room.send("privateVars", { quest: `${MARK}-client`, step: 3 });
    room.setUserPrivateVariables(alice.room.sessionId, { bag: [`${MARK}-server`, { gold: 5 }] });
    alice.room.send("vars", { hat: "PUBLIC-hat" });
    const chest = room.addItem("chest", { x: 410, y: 410 }, { gold: 1 }, { trap: `${MARK}-hidden` });
    await until(() => bob.room.state.items?.get(chest.id) !== undefined && readVar(bob.room.state.players.get(alice.room.sessionId)?.vars, "hat") === "PUBLIC-hat", "Bob sees the chest and Alice's hat");
    // Changes while both look: a private update, a walk.
    for (let i = 0; i < 5; i++) {
      room.setUserPrivateVariables(alice.room.sessionId, { step: 10 + i, note: `${MARK}-${i}` });
      alice.room.send("position", { x: 400 + i, y: 400 });
      await sleep(60);
    }
    await until(() => readVar(alice.room.state.privateVars?.get(alice.room.sessionId), "note") === `${MARK}-4`, "Alice has her last note");
    await sleep(200);

    const bobBytes = latin1(bobFrames);
    expect(bobFrames.length).toBeGreaterThan(5);
    expect(bobBytes).toContain("PUBLIC-hat"); // the recording works: public variables are there
    expect(bobBytes).not.toContain("PRIVMARK");
    const aliceBytes = latin1(aliceFrames);
    expect(aliceBytes).toContain(`${MARK}-client`);
    expect(aliceBytes).toContain(`${MARK}-server`);
    expect(aliceBytes).not.toContain(`${MARK}-hidden`); // hidden item variables reach nobody
    expect([...bob.room.state.privateVars.keys()]).toEqual([bob.room.sessionId]);
    await Promise.all([alice.room.leave(), bob.room.leave()]);
  });
});

describe("a world lock whose owner died while closing", () => {
  it("is taken over once the owner's closing deadline has passed", async () => {
    const { WorldLock } = await import("../src/framework/WorldLock");
    const presence = roomOf(colyseus, (await enterWithIdentity(colyseus, "lock-probe", "Probe")).room).presence;
    // A lock left behind by a process that died during its final save.
    const key = "mmo:world-lock:orphaned";
    await presence.hincrbyex(key, "n", 1, 30);
    await presence.hset(key, "owner", "dead-room");
    await presence.hset(key, "state", "closing");
    await presence.hset(key, "closingUntil", String(Date.now() - 1));
    const lock = new WorldLock(presence, "orphaned", "new-room");
    await lock.acquire(2000);
    expect(await presence.hget(key, "owner")).toBe("new-room");
    await lock.release();
  });
});
