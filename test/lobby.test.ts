import type { Room } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { boot } from "@colyseus/testing";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOBBY_ROOM, type LobbyRoomListing, type LobbyWorldsMessage } from "../src/shared/lobby";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { sleep, until } from "./helpers/server";

// The real arena.config.ts: an SDK client in the lobby sees the worlds declared in
// src/game/worlds.ts, and each live world's listing (title, users, limbo, maxUsers) as it
// changes (realtime listing of the mmo room type, driven by the room's setMetadata).
let colyseus: ColyseusTestServer;
const rooms: Room[] = [];

beforeAll(async () => {
  process.env.MMO_DATA_DIR = mkdtempSync(join(tmpdir(), "mmo-data-"));
  process.env.GAME_GEMS = "5";
  process.env.GAME_NPCS = "1";
  const app = (await import("../arena.config")).default;
  colyseus = await boot(app);
});
afterAll(async () => {
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(1000)])));
  await colyseus?.shutdown();
});

/** What a lobby client has been told: the listing by roomId, and the declared worlds. */
interface LobbyView {
  rooms: Map<string, LobbyRoomListing>;
  worlds?: LobbyWorldsMessage;
  updates: number;
}

async function joinLobby(options: Record<string, unknown> = {}): Promise<{ lobby: Room; view: LobbyView }> {
  const lobby = await colyseus.sdk.joinOrCreate(LOBBY_ROOM, options);
  rooms.push(lobby);
  const view: LobbyView = { rooms: new Map(), updates: 0 };
  lobby.onMessage("rooms", (list: LobbyRoomListing[]) => {
    view.rooms = new Map(list.map((r) => [r.roomId, r]));
  });
  lobby.onMessage("+", ([roomId, room]: [string, LobbyRoomListing]) => {
    view.updates++;
    view.rooms.set(roomId, room);
  });
  lobby.onMessage("-", (roomId: string) => {
    view.updates++;
    view.rooms.delete(roomId);
  });
  lobby.onMessage("worlds", (m: LobbyWorldsMessage) => (view.worlds = m));
  return { lobby, view };
}

const worldIn = (view: LobbyView, world: string) => [...view.rooms.values()].find((r) => r.metadata?.world === world);

async function enter(world: string, name: string): Promise<Room<MMOState>> {
  const room = await joinWorld(colyseus.sdk, { world, name });
  room.onMessage("identity", () => {});
  rooms.push(room);
  return room;
}

describe("the lobby", () => {
  it("lists the declared worlds, and each live world with live counts", async () => {
    const { view } = await joinLobby();
    await until(() => view.worlds !== undefined, "the declared worlds");
    expect(view.worlds!.unknownWorlds).toBe("default");
    expect(view.worlds!.worlds).toEqual([
      { world: "default", title: "The Meadow", maxUsers: 5000 },
      { world: "arena", title: "The Arena (small)", maxUsers: 20 },
      { world: "frontier", title: "The Frontier (large)", maxUsers: 10000 },
      { world: "continent", title: "The Continent (4 regions)", maxUsers: 5000 },
    ]);
    expect(view.rooms.size).toBe(0); // nothing live yet

    const a = await enter("arena", "A");
    await until(() => worldIn(view, "arena")?.metadata?.users === 1, "arena listed with 1 user");
    expect(worldIn(view, "arena")).toMatchObject({ name: "mmo", metadata: { world: "arena", title: "The Arena (small)", users: 1, limbo: 1, maxUsers: 20 } });

    // A second player, and the first one leaving limbo: the counts follow.
    const b = await enter("arena", "B");
    a.send("position", { x: 200, y: 200 });
    await until(() => worldIn(view, "arena")?.metadata?.users === 2 && worldIn(view, "arena")?.metadata?.limbo === 1, "arena: 2 users, 1 in limbo");
    b.send("position", { x: 260, y: 200 });
    await until(() => worldIn(view, "arena")?.metadata?.limbo === 0, "arena: nobody in limbo");

    // A second world, an undeclared one (the defaults, titled by its name), and a lobby client joining now.
    await enter("e2e-elsewhere", "C");
    await until(() => worldIn(view, "e2e-elsewhere")?.metadata?.users === 1, "the other world listed");
    expect(worldIn(view, "e2e-elsewhere")?.metadata).toMatchObject({ title: "e2e-elsewhere", maxUsers: 5000 });
    // (Its own filter is not used: this lobby lists the mmo rooms, and no metadata filter can break it.)
    const late = await joinLobby({ filter: { name: "process", metadata: { world: "nope" } } });
    await until(() => late.view.rooms.size === 2 && late.view.worlds !== undefined, "a later lobby client gets both live worlds");
    expect(worldIn(late.view, "arena")?.metadata).toMatchObject({ users: 2, limbo: 0 });

    // Leaving: the count drops; the last player leaving removes the world from the listing.
    await b.leave();
    await until(() => worldIn(view, "arena")?.metadata?.users === 1, "arena: 1 user after a leave");
    await a.leave();
    await until(() => worldIn(view, "arena") === undefined, "arena gone from the listing when empty");
    // Only MMO rooms: the lobby never lists itself.
    expect([...view.rooms.values()].every((r) => r.name === "mmo")).toBe(true);
  });

  it("players moving change no count: the lobby hears nothing (never per patch)", async () => {
    const { view } = await joinLobby();
    const walker = await enter("frontier", "W");
    walker.send("position", { x: 1000, y: 1000 });
    await until(() => worldIn(view, "frontier")?.metadata?.limbo === 0, "frontier: W placed");
    await sleep(600);
    const before = view.updates;
    for (let i = 1; i <= 20; i++) {
      walker.send("position", { x: 1000 + i * 5, y: 1000 });
      await sleep(50);
    }
    await sleep(600);
    expect(view.updates - before).toBe(0);
  });

  it("a lobby client flooding messages is cut off (4002); the others keep their listing", async () => {
    const { view: calm } = await joinLobby();
    const { lobby: noisy } = await joinLobby();
    const closed = new Promise<number>((resolve) => noisy.onLeave((code: number) => resolve(code)));
    for (let i = 0; i < 50; i++) noisy.send("filter", { name: "mmo", metadata: { world: `w${i}` } });
    expect(await Promise.race([closed, sleep(5000).then(() => -1)])).toBe(4002);
    const player = await enter("lobby-flood", "Fay");
    await until(() => worldIn(calm, "lobby-flood")?.metadata?.users === 1, "the calm lobby client still hears counts");
    await player.leave();
  });
});
