import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { MMORoom } from "../src/framework/MMORoom";
import { joinWorld } from "../src/shared/sdk";
import { bootMMO, ids, until } from "./helpers/server";

// SmartFoxServer's own example: a 3D AoI of (30, 25, 12) in a (-3000..3000, -500..500, -3000..3000) map.
let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO({
    aoi: { x: 30, y: 25, z: 12 },
    aoiLeaveMargin: 0,
    mapLimits: { lower: { x: -3000, y: -500, z: -3000 }, higher: { x: 3000, y: 500, z: 3000 } },
    proximityUpdateMillis: 50,
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});

it("a 3D world filters on z like on x and y, with float coordinates", async () => {
  const a = await joinWorld(colyseus.sdk, { world: "space" });
  const b = await joinWorld(colyseus.sdk, { world: "space" });
  const room = colyseus.getRoomById(a.roomId) as unknown as MMORoom;
  a.send("position", { x: -100.5, y: 0, z: -2000.25 });
  b.send("position", { x: -90.5, y: 10, z: -1988.25 }); // |dz| = 12: on the border, inside
  await until(() => a.state.players?.has(b.sessionId) === true && b.state.players?.has(a.sessionId) === true, "in range in 3D");

  b.send("position", { x: -90.5, y: 10, z: -1988 }); // |dz| = 12.25: outside on z alone
  await until(() => a.state.players?.has(b.sessionId) === false, "out of range on z");
  // b's own proximity update is staggered (each observer on its turn): wait for it too.
  await until(() => ids(b.state.players).join() === b.sessionId, "b no longer sees a");
  expect(ids(b.state.players)).toEqual([b.sessionId]);

  const item = room.addItem("star", { x: -100, y: -5, z: -2010 });
  await until(() => a.state.items?.has(item.id) === true, "3D item in range");
  expect(b.state.items?.has(item.id) ?? false).toBe(false);
  expect(room.getProximityItems({ x: -100, y: 0, z: -2000 }).map((i) => i.id)).toEqual([item.id]);
  expect(room.getProximityList(room.state.players.get(a.sessionId)!)).toEqual([]);
  await a.leave();
  await b.leave();
});
