import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import { MMORoom } from "../src/framework/MMORoom";
import type { MMOError } from "../src/shared/protocol";
import { readVar } from "../src/shared/vars";
import { twoRegions } from "./helpers/regions";
import { bootMMO, enterWithIdentity, inbox, nextMessage, placeAt, roomOf, sleep, until } from "./helpers/server";

// Security review (issue 20) point 6: leaving and rejoining with the same token was a teleport
// (the first position out of limbo was free), and in a split world a first position could land
// anywhere on the map and be handed off at once.
const MAX_SPEED = 300;

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO(
    twoRegions({ maxSpeed: MAX_SPEED, reconnectSeconds: 0 }),
    MMORoom,
    { persistence: { store: new FileWorldStore(mkdtempSync(join(tmpdir(), "mmo-first-"))), identity: new IdentitySigner(Buffer.from("first-position-secret")) } },
  );
});
afterAll(async () => {
  await colyseus.shutdown();
});

describe("the first position of a join", () => {
  it("of a returning identity is held to maxSpeed from where it was remembered: no teleport by leaving and rejoining", async () => {
    const first = await enterWithIdentity(colyseus, "rejoin", "Rita");
    await placeAt(colyseus, first.room, 100, 100);
    first.room.send("vars", { hat: "red" }); // progress: the world remembers her
    await until(() => readVar(roomOf(colyseus, first.room).state.players.get(first.room.sessionId)?.vars, "hat") === "red", "her variable is set");
    await first.room.leave();

    const back = (await enterWithIdentity(colyseus, "rejoin", "Rita", first.token)).room;
    const room = roomOf(colyseus, back);
    const errors = nextMessage<MMOError>(back, "error");
    back.send("position", { x: 900, y: 900 }); // far beyond maxSpeed from (100, 100)
    expect(await errors).toMatchObject({ code: "TOO_FAST", request: "position" });
    // Nothing changed: still in limbo, not placed.
    expect(room.getSession(back.sessionId)?.inLimbo).toBe(true);
    expect(room.state.players.get(back.sessionId)?.x).not.toBe(900);
    // A step from where she was is fine.
    await placeAt(colyseus, back, 110, 100);
    await back.leave();
  });

  it("in a world split into regions lies in the region joined (OUT_OF_REGION, nothing changes, no handoff)", async () => {
    const joiner = (await enterWithIdentity(colyseus, "regions", "Rob")).room;
    const got = inbox(joiner);
    const room = roomOf(colyseus, joiner);
    const errors = nextMessage<MMOError>(joiner, "error");
    joiner.send("position", { x: 1500, y: 500 }); // on the map, in the other region
    expect(await errors).toMatchObject({ code: "OUT_OF_REGION", request: "position" });
    await sleep(300);
    expect(room.getSession(joiner.sessionId)?.inLimbo).toBe(true);
    expect(got.has("handoff")).toBe(false);
    await placeAt(colyseus, joiner, 500, 500);
    await joiner.leave();
  });
});
