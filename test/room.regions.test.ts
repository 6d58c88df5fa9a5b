import type { Room as SDKRoom } from "@colyseus/sdk";
import { matchMaker } from "@colyseus/core";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCodes } from "../src/shared/codes";
import type { InputAck } from "../src/shared/movement";
import type { MMOState } from "../src/shared/schema";
import { type HandoffMessage, followHandoffs, joinWorld, readVar, regionOf } from "../src/shared/sdk";
import { twoRegions } from "./helpers/regions";
import { bootMMO, ids, placeAt, roomOf, sleep, until } from "./helpers/server";

// A world of two regions side by side (x < 1000: the entry region "", x >= 1000: "1_0"), each
// its own room, through real sockets: border ghosts, a live handoff, chat and counts across.
const SPEED = 400;
const settings = twoRegions({ handoffHysteresis: 48, patchRate: 50, speed: SPEED });

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO(settings);
});
afterAll(async () => {
  await colyseus.shutdown();
});

const join = (world: string, name: string, region?: string) => joinWorld(colyseus.sdk, { world, name, region });
const keys = (right: boolean, left = false) => ({ up: false, down: false, left, right });

/** Records, after every patch, whether `room`'s state holds `id` (the test fails on any gap). */
function watch(room: SDKRoom<MMOState>, id: string): { seen: boolean[]; stop: () => void } {
  const seen: boolean[] = [];
  let on = true;
  room.onStateChange(() => on && seen.push(room.state.players.has(id)));
  return { seen, stop: () => (on = false) };
}

describe("a world split into regions", () => {
  it("mirrors border entities into the neighbour with the same id, and forgets them once away", async () => {
    const a = await join("ghosts", "A");
    const b = await join("ghosts", "B", "1_0");
    expect(a.roomId).not.toBe(b.roomId);
    await placeAt(colyseus, a, 950, 500);
    await placeAt(colyseus, b, 1100, 500);
    // Each sees the other across the border, under its own id, as it would in one room.
    await until(() => a.state.players.has(b.sessionId) && b.state.players.has(a.sessionId), "each sees the other across the border");
    expect(ids(a.state.players).sort()).toEqual([a.sessionId, b.sessionId].sort());
    // An item of the neighbour's near the border is seen too; its id says whose it is.
    const item = roomOf(colyseus, b).addItem("gem", { x: 1020, y: 520 }, { value: 5 });
    expect(item.id.startsWith("1_0.")).toBe(true);
    await until(() => a.state.items.has(item.id), "the neighbour's item is seen across the border");
    expect(readVar(a.state.items.get(item.id)?.vars, "value")).toBe(5);
    // A ghost is read-only where it is mirrored.
    expect(roomOf(colyseus, a).removeItem(item.id)).toBe(false);
    // Variables follow the ghost.
    roomOf(colyseus, b).setUserVariables(b.sessionId, { hat: "red" });
    await until(() => readVar(a.state.players.get(b.sessionId)?.vars, "hat") === "red", "a variable reaches the ghost");
    // Walking away from the border: the ghost goes.
    await placeAt(colyseus, b, 1600, 500);
    await until(() => !a.state.players.has(b.sessionId), "the ghost goes once its entity is far from the border");
    expect(roomOf(colyseus, a).state.players.has(b.sessionId)).toBe(false);
    // The world's count is world-wide in every region.
    await until(() => a.state.userCount === 2 && b.state.userCount === 2, "userCount counts both regions");
    await a.leave();
    await b.leave();
  });

  it("hands a walking player over: same id, variables and keys, seen without a gap on both sides", async () => {
    const walker = await join("handoff", "Walker");
    const west = await join("handoff", "West");
    const east = await join("handoff", "East", "1_0");
    await placeAt(colyseus, walker, 960, 500);
    await placeAt(colyseus, west, 990, 560);
    await placeAt(colyseus, east, 1150, 540);
    roomOf(colyseus, walker).setUserVariables(walker.sessionId, { score: 42 });
    roomOf(colyseus, walker).setUserPrivateVariables(walker.sessionId, { secret: "x" });
    await until(() => west.state.players.has(walker.sessionId) && east.state.players.has(walker.sessionId), "both neighbours see the walker");

    const fromWest = watch(west, walker.sessionId);
    const fromEast = watch(east, walker.sessionId);
    let closed: number | undefined;
    walker.onLeave((code) => (closed = code));
    const switched: SDKRoom<MMOState>[] = [];
    followHandoffs(colyseus.sdk, walker, ({ to }) => switched.push(to));

    walker.send("input", keys(true));
    await until(() => switched.length === 1, "the walker is handed to the east region", 8000);
    const now = switched[0];
    expect(regionOf(now)).toBe("1_0");
    expect(now.roomId).toBe(east.roomId);
    // The same player: its sessionId (its entity id), public and private variables.
    expect(now.sessionId).toBe(walker.sessionId);
    await until(() => now.state?.players?.has(walker.sessionId) === true, "the new room's state holds the walker");
    expect(readVar(now.state.players.get(walker.sessionId)!.vars, "score")).toBe(42);
    expect(readVar(now.state.privateVars.get(walker.sessionId), "secret")).toBe("x");
    await until(() => closed === CloseCodes.HANDED_OFF, "the old room closes with HANDED_OFF");
    // The keys held kept the player walking in its new region, past where it crossed.
    const server = () => roomOf(colyseus, now).state.players.get(walker.sessionId)!;
    const crossed = server().x;
    expect(crossed).toBeGreaterThanOrEqual(1000 + settings.handoffHysteresis - 30);
    await until(() => server().x > crossed + 20, "the held key goes on moving it");
    now.send("input", keys(false));
    await sleep(200);
    fromWest.stop();
    fromEast.stop();
    // Never a patch where a neighbour lost it, on either side of the border.
    expect(fromWest.seen.length).toBeGreaterThan(4);
    expect(fromEast.seen.length).toBeGreaterThan(4);
    expect(fromWest.seen.every(Boolean)).toBe(true);
    expect(fromEast.seen.every(Boolean)).toBe(true);
    // One entity, not two: the west room holds it as the east's ghost; the east room as its own.
    expect(roomOf(colyseus, west).getSession(walker.sessionId)).toBeUndefined();
    expect(roomOf(colyseus, now).getSession(walker.sessionId)).toBeDefined();
    for (const r of [west, east, now]) expect(ids(r.state.players).filter((id) => id === walker.sessionId)).toHaveLength(1);
    await until(() => west.state.userCount === 3 && east.state.userCount === 3, "the world still counts three users");
    for (const r of [now, west, east]) await r.leave();
  });

  it("starts the player in its new region from where the old one stopped it, with the keys it holds then (not at the offer)", async () => {
    const walker = await join("stale", "Walker");
    await placeAt(colyseus, walker, 1000, 500);
    const offer = new Promise<HandoffMessage>((resolve) => walker.onMessage("handoff", resolve));
    walker.send("input", keys(true));
    const m = await offer;
    // The key is released before the client takes the seat: the old room stops the player.
    walker.send("input", keys(false));
    await sleep(150);
    const stoppedAt = roomOf(colyseus, walker).state.players.get(walker.sessionId)!.x;
    const now = await colyseus.sdk.consumeSeatReservation<MMOState>(m.reservation as Parameters<typeof colyseus.sdk.consumeSeatReservation>[0]);
    const server = () => roomOf(colyseus, now).state.players.get(walker.sessionId)!;
    await until(() => server() !== undefined, "the new room has the walker");
    expect(server().x).toBe(stoppedAt);
    await sleep(300);
    expect(server().x).toBe(stoppedAt); // not walking on with the keys of the offer
    await now.leave();
  });

  it("a player handed back before its old connection's close arrived stays whole (the late close ends nothing)", async () => {
    const walker = await join("back", "Walker");
    await placeAt(colyseus, walker, 990, 500);
    const west = roomOf(colyseus, walker);
    // The old connection's close reaches the west room late (a slow network, a busy process).
    const onLeave = west.onLeave.bind(west);
    const late: Promise<void>[] = [];
    west.onLeave = (client) => void late.push(sleep(2500).then(() => onLeave(client)));
    let current: SDKRoom<MMOState> = walker;
    const regions: string[] = [];
    followHandoffs(colyseus.sdk, walker, ({ to, region }) => {
      current = to;
      regions.push(region);
    });
    walker.send("input", keys(true));
    await until(() => regions.length === 1, "handed to the east", 5000);
    current.send("input", keys(false, true)); // straight back west
    await until(() => regions.length === 2, "handed back to the west before its old close arrived", 6000);
    current.send("input", keys(false));
    await Promise.all(late);
    west.onLeave = onLeave;
    await sleep(200);
    // The west room's own player again, with a session, in its state, and seen by its client.
    expect(current.roomId).toBe(west.roomId);
    expect(west.getSession(walker.sessionId)).toBeDefined();
    expect(west.state.players.get(walker.sessionId)).toBe(west.getSession(walker.sessionId)!.player);
    const x = west.state.players.get(walker.sessionId)!.x;
    current.send("input", keys(false, true));
    await until(() => west.state.players.get(walker.sessionId)!.x < x - 20, "it moves in the west room");
    current.send("input", keys(false));
    // (the wire may carry a float32-exact value with fewer digits)
    await until(() => Math.abs((current.state.players?.get(walker.sessionId)?.x ?? -1) - west.state.players.get(walker.sessionId)!.x) < 0.01, "its client sees where it is");
    await current.leave();
  });

  it("the new region's acks go on with the input being applied, its seq and its duration so far (the client's timeline)", async () => {
    const walker = await join("acks", "Walker");
    await placeAt(colyseus, walker, 980, 500);
    const before: InputAck[] = [];
    walker.onMessage("ack", (m: InputAck) => before.push(m));
    let now: SDKRoom<MMOState> | undefined;
    const after: InputAck[] = [];
    followHandoffs(colyseus.sdk, walker, ({ to }) => {
      now = to;
      to.onMessage("ack", (m: InputAck) => after.push(m));
    });
    walker.send("input", { ...keys(true), seq: 5 });
    await until(() => after.length > 0, "an ack from the new region", 5000);
    const lastOld = before.filter((m) => m.seq === 5).at(-1)!;
    const firstNew = after[0];
    // The same input, applied without a restart: its duration only grows, and the position is
    // exactly that duration of walking from where the key was pressed.
    expect(firstNew.seq).toBe(5);
    expect(firstNew.ms).toBeGreaterThanOrEqual(lastOld.ms);
    expect(Math.abs(firstNew.x - (980 + (SPEED * firstNew.ms) / 1000))).toBeLessThan(1);
    now!.send("input", { ...keys(false), seq: 6 });
    await sleep(100);
    await now!.leave();
  });

  it("does not flap: walking along the border, within the hysteresis, keeps the player where it is", async () => {
    const p = await join("flap", "P");
    await placeAt(colyseus, p, 990, 500);
    const offers: unknown[] = [];
    p.onMessage("handoff", (m) => offers.push(m));
    for (const x of [1010, 995, 1030, 1000, 1040, 980, 1045]) {
      await placeAt(colyseus, p, x, 500);
      await sleep(60);
    }
    expect(offers).toHaveLength(0);
    await p.leave();
  });

  it("chat reaches the neighbour's players inside the sender's AoI, and no farther", async () => {
    const a = await join("chat", "A");
    const near = await join("chat", "Near", "1_0");
    const far = await join("chat", "Far", "1_0");
    await placeAt(colyseus, a, 950, 500);
    await placeAt(colyseus, near, 1100, 500);
    await placeAt(colyseus, far, 1500, 500);
    const got = (r: SDKRoom) => {
      const list: string[] = [];
      r.onMessage("chat", (m: { text: string }) => list.push(m.text));
      return list;
    };
    const toNear = got(near);
    const toFar = got(far);
    a.send("chat", { text: "hello east" });
    await until(() => toNear.includes("hello east"), "chat crosses the border");
    await sleep(300);
    expect(toFar).toEqual([]);
    for (const r of [a, near, far]) await r.leave();
  });

  it("a client cannot forge a handoff: a `handoff` join option is dropped, and the joiner is a new player", async () => {
    const victim = await join("forge", "Victim");
    // (A first position lies in the region joined; then past the border, within the hysteresis.)
    await placeAt(colyseus, victim, 990, 500);
    await placeAt(colyseus, victim, 1020, 500);
    const forged = { id: victim.sessionId, name: "Victim", from: "", fromRoomId: victim.roomId, x: 1500, y: 500, z: 0, vars: { admin: true }, privateVars: {}, keys: keys(false) };
    const thief = await colyseus.sdk.joinOrCreate<MMOState>("mmo", { world: "forge", region: "1_0", handoff: forged, sessionId: victim.sessionId });
    expect(thief.sessionId).not.toBe(victim.sessionId);
    const east = roomOf(colyseus, thief);
    expect(east.getSession(victim.sessionId)).toBeUndefined();
    expect(readVar(east.state.players.get(thief.sessionId)?.vars, "admin")).toBeUndefined();
    // The victim plays on, still the west region's own.
    expect(roomOf(colyseus, victim).getSession(victim.sessionId)).toBeDefined();
    await thief.leave();
    await victim.leave();
  });

  it("a client teleporting to and fro across the border is handed over at most once a second", async () => {
    const jumper = await join("storm", "Jumper");
    await placeAt(colyseus, jumper, 900, 500);
    let current: SDKRoom<MMOState> = jumper;
    let switches = 0;
    followHandoffs(colyseus.sdk, jumper, ({ to }) => {
      current = to;
      switches++;
    });
    const start = Date.now();
    for (let i = 0; i < 40; i++) {
      current.send("position", { x: i % 2 ? 1900 : 100, y: 500 });
      await sleep(50);
    }
    const seconds = (Date.now() - start) / 1000;
    expect(switches).toBeGreaterThanOrEqual(1);
    expect(switches).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    await sleep(200);
    await current.leave();
  });

  it("visibility ranges hold across the border: a landmark is seen from farther, a sneaking player only from closer, as in one room", async () => {
    const a = await join("ranges", "A"); // x 950: 80 from the sneak, 550 from the landmark
    const c = await join("ranges", "C"); // x 995: 35 from the sneak
    const s = await join("ranges", "Sneak", "1_0");
    await placeAt(colyseus, a, 950, 500);
    await placeAt(colyseus, c, 995, 500);
    await placeAt(colyseus, s, 1030, 500);
    const east = roomOf(colyseus, s);
    const sneak = east.state.players.get(s.sessionId)!;
    // Beyond the AoI and the ghost margin (268) of the border, inside its own range (600).
    const landmark = east.addItem("tower", { x: 1500, y: 500 });
    east.setVisibilityRange(landmark, { x: 600, y: 600, z: 0 });
    east.setVisibilityRange(sneak, { x: 50, y: 50, z: 0 });
    await until(() => a.state.items.has(landmark.id) && c.state.items.has(landmark.id), "the landmark is seen across the border from 550 away");
    await until(() => c.state.players.has(s.sessionId), "the sneak is seen from 35 away");
    await sleep(300); // several patches and proximity updates
    expect(a.state.players.has(s.sessionId)).toBe(false); // 80 away: outside its range of 50
    // Back to the AoI: seen from 80 away too.
    east.setVisibilityRange(sneak, null);
    await until(() => a.state.players.has(s.sessionId), "the sneak without its range is seen from 80 away");
    // Its range travels with it when it walks into the other region.
    east.setVisibilityRange(sneak, { x: 50, y: 50, z: 0 });
    const switched: SDKRoom<MMOState>[] = [];
    followHandoffs(colyseus.sdk, s, ({ to }) => switched.push(to));
    s.send("input", keys(false, true));
    await until(() => switched.length === 1, "the sneak is handed to the west region", 8000);
    switched[0].send("input", keys(false));
    const west = roomOf(colyseus, switched[0]);
    expect(west.getVisibilityRange(west.state.players.get(s.sessionId)!)).toEqual({ x: 50, y: 50, z: 0 });
    await sleep(300);
    expect(west.getVisibilityRange(west.state.players.get(s.sessionId)!)).toEqual({ x: 50, y: 50, z: 0 });
    for (const r of [a, c, switched[0]]) await r.leave();
  });

  it("an item the game moves across the border goes to the region it moved into: seen throughout, owned by one region", async () => {
    const w = await join("items", "W");
    const e = await join("items", "E", "1_0");
    await placeAt(colyseus, w, 950, 500);
    await placeAt(colyseus, e, 1150, 500);
    const west = roomOf(colyseus, w);
    const east = roomOf(colyseus, e);
    const cart = west.addItem("cart", { x: 960, y: 500 }, { load: 3 }, { owner: "guild" });
    await until(() => w.state.items.has(cart.id) && e.state.items.has(cart.id), "both see the cart");
    const seen: boolean[] = [];
    const record = () => seen.push(w.state.items.has(cart.id) && e.state.items.has(cart.id));
    w.onStateChange(record);
    e.onStateChange(record);
    // The game pushes it east, 10 units a tick, while it is the west's (past the 48 of
    // hysteresis the east takes it, and the west's game lets go: onItemHandedOut).
    for (let x = 970; x <= 1100 && west.entities.ownsItem(cart); x += 10) {
      west.setItemPosition(cart, { x, y: 500 });
      await sleep(20);
    }
    expect(cart.x).toBeGreaterThan(1048);
    await until(() => east.entities.ownsItem(east.state.items.get(cart.id)!), "the east region owns the cart");
    await until(() => !west.entities.ownsItem(cart), "the west region let it go");
    expect(west.removeItem(cart.id)).toBe(false); // the east's now: read-only here
    expect(east.entities.hiddenVars(cart.id).get("owner")).toBe("guild");
    // The east's game moves it on; both clients follow.
    east.setItemPosition(cart.id, { x: 1120, y: 510 });
    await until(() => w.state.items.get(cart.id)?.y === 510 && e.state.items.get(cart.id)?.y === 510, "both see the east move it");
    expect(readVar(e.state.items.get(cart.id)?.vars, "load")).toBe(3);
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.every(Boolean)).toBe(true); // never a patch without it on either side
    await Promise.all([w.leave(), e.leave()]);
  });

  it("refuses a region the world does not have, and a malformed one", async () => {
    await expect(join("ghosts", "X", "7_7")).rejects.toThrow(/no region "7_7"/);
    await expect(join("ghosts", "X", "../etc")).rejects.toThrow(/regions are named like 1_0/);
  });

  it("one spelling per region: 01_0, 1_00, 001_000, 0001_0000 and 0_0 are refused, and no second copy of a region opens", async () => {
    const real = await join("spelling", "Real", "1_0");
    for (const spelling of ["01_0", "1_00", "001_000", "0001_0000", "0_0", "00_0"]) {
      await expect(join("spelling", `Copy ${spelling}`, spelling), spelling).rejects.toThrow(/regions are named like 1_0 \(no leading zeros/);
    }
    const rooms = await matchMaker.query({ name: "mmo", world: "spelling" } as never);
    expect(rooms.map((r) => (r.metadata as { region: string }).region)).toEqual(["1_0"]);
    await real.leave();
  });

  it("a ghost batch from anything but a neighbour, by its one spelling, changes nothing (no ghost, no item, no message)", async () => {
    const west = await join("intruded", "West");
    await placeAt(colyseus, west, 950, 500);
    const chat: unknown[] = [];
    west.onMessage("chat", (m) => chat.push(m));
    const channel = "mmo:ghosts:intruded:";
    const batch = (from: string, id: string) => ({
      from,
      players: [[id, 1010, 500, 0, "Intruder", {}]],
      items: [[`${from}.9`, 1020, 520, 0, "gem", { value: 99 }]],
      events: [{ center: { x: 960, y: 500, z: 0 }, half: { x: 200, y: 200, z: 0 }, type: "chat", message: { from: id, text: `from ${from}` } }],
    });
    // Other spellings of the east neighbour, a region the 2x1 grid lacks, the region itself.
    for (const from of ["01_0", "1_00", "5_5", "0_1", "", "0_0"]) await matchMaker.presence.publish(channel, batch(from, `intruder-${from}`));
    // Then the real neighbour's batch, same shape, same place: once its ghost is seen, the ones
    // before it would have been too. The check is on the sender, not on the rows.
    await matchMaker.presence.publish(channel, batch("1_0", "neighbour"));
    await until(() => west.state.players.has("neighbour") && chat.length === 1, "the real neighbour's ghost and message arrive");
    expect(ids(west.state.players).sort()).toEqual([west.sessionId, "neighbour"].sort());
    expect(ids(west.state.items).filter((id) => id.endsWith(".9"))).toEqual(["1_0.9"]);
    expect(chat).toEqual([{ from: "neighbour", text: "from 1_0" }]);
    await west.leave();
  });
});
