import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { growVec, insideBox, type Vec3 } from "../src/aoi";
import type { MMORoom } from "../src/framework/MMORoom";
import type { MMOState } from "../src/shared/schema";
import { type ProximityUpdate, joinWorld, onProximityUpdate } from "../src/shared/sdk";
import { bootMMO, ids, sleep, until } from "./helpers/server";
import { rng } from "./helpers/rng";
import { readVar } from "../src/shared/vars";

// Proximity updates are driven by hand (room.updateProximity()) so the expected sets are exact.
const AOI = { x: 300, y: 200, z: 0 };
const MARGIN = 40;
const MAP = { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1600, z: 0 } };
const MANUAL = 2_000_000_000;

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({ aoi: AOI, aoiLeaveMargin: MARGIN, mapLimits: MAP, proximityUpdateMillis: MANUAL });
});
afterAll(async () => {
  await colyseus.shutdown();
});


const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

async function join(world: string, name: string): Promise<SDKRoom<MMOState>> {
  return joinWorld(colyseus.sdk, { world, name });
}

function serverRoom(client: SDKRoom): MMORoom {
  return colyseus.getRoomById(client.roomId) as unknown as MMORoom;
}

/** Sends positions and waits until the server has applied all of them. */
async function moveAll(room: MMORoom, clients: SDKRoom[], targets: Vec3[]): Promise<void> {
  clients.forEach((c, i) => c.send("position", targets[i]));
  await until(
    () => clients.every((c, i) => room.state.players.get(c.sessionId)?.x === targets[i].x && room.state.players.get(c.sessionId)?.y === targets[i].y),
    "server applied every position",
  );
}

/** The enter/leave rule: enter inside the AoI; stay while inside AoI + margin. */
function expectedSet(prev: Set<string>, self: Vec3, selfId: string, all: Map<string, Vec3>, aoi: Vec3, margin: number): Set<string> {
  const leave = growVec(aoi, margin);
  const out = new Set<string>();
  for (const [id, p] of all) {
    if (id === selfId) continue;
    if (insideBox(p, self, aoi) || (prev.has(id) && insideBox(p, self, leave))) out.add(id);
  }
  return out;
}

describe("AoI through real WebSockets", () => {
  it("45 clients and 80 items: every decoded state equals the enter/leave rule, step after step", async () => {
    const r = rng(2024);
    const N = 45;
    const clients: SDKRoom<MMOState>[] = [];
    for (let i = 0; i < N; i++) clients.push(await join("aoi-random", `p${i}`));
    const room = serverRoom(clients[0]);
    expect(new Set(clients.map((c) => c.roomId)).size).toBe(1);

    const itemPos = new Map<string, Vec3>();
    for (let i = 0; i < 80; i++) {
      const p = { x: r() * 2000, y: r() * 1600, z: 0 };
      const item = room.addItem("gem", p, { value: String(i) }, { secret: `SECRET-${i}` });
      itemPos.set(item.id, p);
    }

    let positions: Vec3[] = clients.map(() => ({ x: Math.round(r() * 2000), y: Math.round(r() * 1600), z: 0 }));
    let expectedPlayers = clients.map(() => new Set<string>());
    let expectedItems = clients.map(() => new Set<string>());
    let bandCases = 0;

    for (let step = 0; step < 6; step++) {
      if (step > 0) {
        // Small moves keep many entities in the hysteresis band; some players teleport.
        positions = positions.map((p) =>
          r() < 0.15
            ? { x: Math.round(r() * 2000), y: Math.round(r() * 1600), z: 0 }
            : { x: clamp(Math.round(p.x + (r() - 0.5) * 160), 0, 2000), y: clamp(Math.round(p.y + (r() - 0.5) * 160), 0, 1600), z: 0 },
        );
        for (const [id, p] of itemPos) {
          if (r() < 0.3) {
            const q = { x: clamp(p.x + (r() - 0.5) * 120, 0, 2000), y: clamp(p.y + (r() - 0.5) * 120, 0, 1600), z: 0 };
            room.setItemPosition(id, q);
            itemPos.set(id, q);
          }
        }
      }
      await moveAll(room, clients, positions);
      room.updateProximity();

      const playerPos = new Map(clients.map((c, i) => [c.sessionId, positions[i]]));
      expectedPlayers = clients.map((c, i) => expectedSet(expectedPlayers[i], positions[i], c.sessionId, playerPos, AOI, MARGIN));
      expectedItems = clients.map((_c, i) => expectedSet(expectedItems[i], positions[i], "", itemPos, AOI, MARGIN));
      for (let i = 0; i < N; i++) {
        for (const id of expectedPlayers[i]) if (!insideBox(playerPos.get(id)!, positions[i], AOI)) bandCases++;
      }

      const want = (i: number) => ({
        players: [...expectedPlayers[i], clients[i].sessionId].sort(),
        items: [...expectedItems[i]].sort(),
      });
      const got = (i: number) => ({ players: ids(clients[i].state.players), items: ids(clients[i].state.items) });
      await until(() => clients.every((_c, i) => JSON.stringify(got(i)) === JSON.stringify(want(i))), `step ${step}: decoded sets match`).catch(
        () => undefined,
      );
      for (let i = 0; i < N; i++) expect(got(i), `client ${i}, step ${step}`).toEqual(want(i));
      // Non-trivial sets: on average each client sees several others and several items.
      expect(expectedPlayers.reduce((n, s) => n + s.size, 0)).toBeGreaterThan(2 * N);
      expect(expectedItems.reduce((n, s) => n + s.size, 0)).toBeGreaterThan(2 * N);
      // Positions of what is visible are the current ones.
      for (const c of clients) {
        c.state.players?.forEach((p, id) => expect({ x: p.x, y: p.y }).toEqual({ x: playerPos.get(id)!.x, y: playerPos.get(id)!.y }));
      }
    }
    // The walk must have exercised the hysteresis band, or the test proves less than it says.
    expect(bandCases).toBeGreaterThan(5);

    // Hidden item variables never reach a client; public ones do.
    for (const c of clients) {
      c.state.items?.forEach((item) => {
        expect(JSON.stringify(item.toJSON())).not.toContain("SECRET");
        expect(readVar(item.vars, "value")).toMatch(/^\d+$/);
      });
    }
    expect(room.getItemHiddenVariables([...itemPos.keys()][0]).get("secret")).toMatch(/^SECRET-/);
    await Promise.all(clients.map((c) => c.leave()));
  });

  it("moving in and out of range adds and removes on both sides, with entry points", async () => {
    const a = await join("aoi-pair", "A");
    const b = await join("aoi-pair", "B");
    const room = serverRoom(a);
    const updatesA: ProximityUpdate[] = [];
    const updatesB: ProximityUpdate[] = [];
    onProximityUpdate(a, (u) => updatesA.push(u));
    onProximityUpdate(b, (u) => updatesB.push(u));

    await moveAll(room, [a, b], [{ x: 100, y: 100, z: 0 }, { x: 1500, y: 100, z: 0 }]);
    room.updateProximity();
    await sleep(150);
    expect(ids(a.state.players)).toEqual([a.sessionId]);
    expect(ids(b.state.players)).toEqual([b.sessionId]);

    await moveAll(room, [b], [{ x: 350, y: 120, z: 0 }]);
    room.updateProximity();
    await until(() => a.state.players?.has(b.sessionId) && b.state.players?.has(a.sessionId), "both see each other");
    await until(() => updatesA.length > 0 && updatesB.length > 0, "proximity updates");
    expect(updatesA.at(-1)!.addedUsers.map((u) => [u.id, u.entryPoint])).toEqual([[b.sessionId, { x: 350, y: 120, z: 0 }]]);
    expect(updatesB.at(-1)!.addedUsers.map((u) => [u.id, u.entryPoint])).toEqual([[a.sessionId, { x: 100, y: 100, z: 0 }]]);

    await moveAll(room, [b], [{ x: 1900, y: 1500, z: 0 }]);
    room.updateProximity();
    await until(() => !a.state.players.has(b.sessionId) && !b.state.players.has(a.sessionId), "both lost each other");
    await until(() => updatesA.at(-1)!.removedUsers.length > 0, "removal reported to A");
    expect(updatesA.at(-1)!.removedUsers).toEqual([b.sessionId]);
    expect(updatesB.at(-1)!.removedUsers).toEqual([a.sessionId]);

    // Items: added, removed and moved out of range are reported as such.
    const gem = room.addItem("gem", { x: 120, y: 100 });
    room.updateProximity();
    await until(() => a.state.items?.has(gem.id), "A sees the gem");
    expect(updatesA.at(-1)!.addedItems.map((i) => [i.id, i.entryPoint])).toEqual([[gem.id, { x: 120, y: 100, z: 0 }]]);
    expect(room.removeItem(gem.id)).toBe(true);
    await until(() => !a.state.items.has(gem.id), "the gem is gone for A");
    expect(updatesA.at(-1)!.removedItems).toEqual([gem.id]);
    expect(room.removeItem(gem.id)).toBe(false);
    await a.leave();
    await b.leave();
  });

  it("a late joiner's first state holds only its AoI", async () => {
    const early = [] as SDKRoom<MMOState>[];
    for (let i = 0; i < 6; i++) early.push(await join("aoi-late", `e${i}`));
    const room = serverRoom(early[0]);
    await moveAll(room, early, early.map((_c, i) => ({ x: i < 3 ? 100 + i * 10 : 1800, y: 100, z: 0 })));
    room.addItem("near", { x: 150, y: 150 });
    room.addItem("far", { x: 1900, y: 1500 });
    room.updateProximity();

    const late = await join("aoi-late", "late");
    await sleep(100);
    // In limbo: it sees nothing, and no one sees it.
    expect(ids(late.state.players)).toEqual([]);
    expect(ids(late.state.items)).toEqual([]);
    late.send("position", { x: 120, y: 120 });
    // Out of limbo it sees its AoI with the next patch, without waiting for the proximity timer.
    await until(() => late.state.players?.size === 4, "late joiner sees the near group");
    expect(ids(late.state.players)).toEqual([...early.slice(0, 3).map((c) => c.sessionId), late.sessionId].sort());
    expect([...(late.state.items?.values() ?? [])].map((i) => i.kind)).toEqual(["near"]);
    await Promise.all([...early, late].map((c) => c.leave()));
  });
});
