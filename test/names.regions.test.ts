import { matchMaker } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nameSkeleton } from "../src/framework/names";
import type { MMOState } from "../src/shared/schema";
import { followHandoffs, joinWorld } from "../src/shared/sdk";
import { twoRegions } from "./helpers/regions";
import { bootMMO, placeAt, roomOf, sleep, until } from "./helpers/server";

// Security review (issue 20) point 3: look-alike protection stopped at region borders. Names
// were unique per room only, and a handoff carried the name as it was: a stranger named
// "Alice" in the neighbouring region walked across and the room had two of one name.
// Two regions side by side: x < 1000 the entry region "", x >= 1000 "1_0".
const settings = twoRegions({ speed: 400 });

let colyseus: ColyseusTestServer;
beforeAll(async () => {
  colyseus = await bootMMO(settings);
});
afterAll(async () => {
  await colyseus.shutdown();
});

const join = (world: string, name: string, region?: string) => joinWorld(colyseus.sdk, { world, name, region });
const nameOf = (c: SDKRoom<MMOState>, id = c.sessionId) => roomOf(colyseus, c).getSession(id)?.player.name;
const keys = (right: boolean, left = false) => ({ up: false, down: false, left, right });

/** A player that follows its handoffs: `cross` walks it over the border (east, or back west) and resolves with the room it is in then. */
function walker(first: SDKRoom<MMOState>) {
  let current = first;
  const arrivals: SDKRoom<MMOState>[] = [];
  followHandoffs(colyseus.sdk, first, ({ to }) => {
    current = to;
    arrivals.push(to);
  });
  return {
    async cross(east: boolean): Promise<SDKRoom<MMOState>> {
      const before = arrivals.length;
      current.send("input", keys(east, !east));
      await until(() => arrivals.length > before, "handed over", 6000);
      current.send("input", keys(false));
      await until(() => roomOf(colyseus, current).getSession(current.sessionId) !== undefined, "the new region has the player");
      return current;
    },
  };
}

/** Every player name a region room holds (its own users and the neighbours' ghosts). */
const namesIn = (c: SDKRoom<MMOState>) => [...roomOf(colyseus, c).state.players.values()].map((p) => p.name);

describe("names in a world split into regions", () => {
  it("a look-alike of a name another region's player holds is renamed at join: crossing the border never makes two of one name", async () => {
    const east = await join("border", "Alice", "1_0");
    await placeAt(colyseus, east, 1500, 500);
    const west = await join("border", "\u0410lice"); // a Cyrillic А
    expect(nameOf(west)).toBe("\u0410lice (2)");
    await placeAt(colyseus, west, 980, 500);
    const now = await walker(west).cross(true);
    expect(now.roomId).toBe(east.roomId);
    const names = namesIn(east);
    expect(names).toHaveLength(2);
    expect(new Set(names.map(nameSkeleton)).size).toBe(2);
    for (const c of [now, east]) await c.leave();
  });

  it("a player arriving by handoff whose name another player of the world holds is renamed, its clients see it, and it keeps that name crossing back", async () => {
    const east = await join("arrival", "Alice", "1_0");
    await placeAt(colyseus, east, 1150, 500); // within sight of the border
    // The world's namespace lost Alice's entry (presence flushed, a process died): a second
    // Alice gets in west, where no Alice plays.
    await matchMaker.presence.del("mmo:names:arrival");
    const west = await join("arrival", "Alice");
    expect(nameOf(west)).toBe("Alice");
    await placeAt(colyseus, west, 980, 500);
    const alice = walker(west);
    const now = await alice.cross(true);
    // Renamed on arrival, in the room and on its own client.
    await until(() => nameOf(now) === "Alice (2)", "the arriving Alice is renamed Alice (2)");
    expect(nameOf(east)).toBe("Alice");
    await until(() => now.state.players?.get(now.sessionId)?.name === "Alice (2)", "its client sees its new name");
    await until(() => east.state.players?.get(now.sessionId)?.name === "Alice (2)", "the other Alice's client sees it too");
    // Its own reservation travels with it: back west and east again, the same name.
    await sleep(1100); // one handoff a second at most
    const back = await alice.cross(false);
    expect(nameOf(back)).toBe("Alice (2)");
    await sleep(1100);
    const again = await alice.cross(true);
    expect(nameOf(again)).toBe("Alice (2)");
    for (const c of [again, east]) await c.leave();
  });

  it("a name whose holder's room no longer answers (its process died) goes to the next player who asks for it", async () => {
    // What a region room on a dead process leaves behind: its player's claim on "Zed".
    const key = "mmo:names:orphan";
    const skeleton = nameSkeleton("Zed");
    await matchMaker.presence.hincrby(key, `c:${skeleton}`, 1);
    await matchMaker.presence.hset(key, `o:${skeleton}`, JSON.stringify({ player: "gone", room: "no-such-room" }));
    const zed = await join("orphan", "Zed");
    expect(nameOf(zed)).toBe("Zed");
    expect(JSON.parse((await matchMaker.presence.hget(key, `o:${skeleton}`))!)).toMatchObject({ player: zed.sessionId });
    await zed.leave();
  });

  it("a name is released when its player leaves the world, not when it is handed on", async () => {
    const bob = await join("release", "Bob");
    await placeAt(colyseus, bob, 980, 500);
    const moved = await walker(bob).cross(true);
    // Bob plays on in the east: the west room has no Bob, the world still has.
    const second = await join("release", "Bob");
    expect(nameOf(second)).toBe("Bob (2)");
    await moved.leave();
    await until(() => roomOf(colyseus, second).state.players.get(moved.sessionId) === undefined && !roomOf(colyseus, second).hasPlayer(moved.sessionId), "Bob left");
    await sleep(100);
    const third = await join("release", "Bob", "1_0");
    expect(nameOf(third)).toBe("Bob");
    for (const c of [second, third]) await c.leave();
  });
});
