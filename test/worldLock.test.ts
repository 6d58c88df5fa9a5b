import { LocalPresence, type Presence } from "@colyseus/core";
import { describe, expect, it } from "vitest";
import { type LockState, WorldLock } from "../src/framework/WorldLock";
import { JoinErrorCodes } from "../src/shared/codes";

// The lock is one presence hash; these tests script the cluster around it: which rooms answer
// (`askOwner`), and when a contender's presence calls go through.

const KEY = "mmo:world-lock:w";

/** A lock left behind by a room whose process died (it no longer answers). */
async function staleLock(presence: Presence): Promise<void> {
  await presence.hincrbyex(KEY, "n", 1, 30);
  await presence.hset(KEY, "owner", "dead-room");
}

/** The cluster's answers: rooms that hold a lock are live; every other room is gone. */
function cluster(locks: Map<string, WorldLock>) {
  return async (roomId: string): Promise<LockState | "gone"> => (locks.has(roomId) ? "live" : "gone");
}

describe("WorldLock takeover of a dead owner's lock", () => {
  it("two contenders that both find the owner dead: one takes the world, the other is refused (no split brain)", async () => {
    const shared = new LocalPresence();
    await staleLock(shared);
    const holders = new Map<string, WorldLock>();
    const ask = cluster(holders);

    // B found the dead owner first. Its delete of the stale lock is held back until A has
    // finished taking the world over (or 500 ms): the interleaving that, with a
    // check-then-delete, deleted A's fresh lock and let B take the world too.
    let aSettled!: () => void;
    const aDone = new Promise<void>((r) => (aSettled = r));
    const slowB = new Proxy(shared, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "del" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          await Promise.race([aDone, new Promise((r) => setTimeout(r, 500))]);
          return value.apply(target, args);
        };
      },
    }) as Presence;

    const lockA = new WorldLock(shared, "w", "room-a", ask);
    const lockB = new WorldLock(slowB, "w", "room-b", ask);
    const b = lockB.acquire(5000).then(
      () => holders.set("room-b", lockB),
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 20)); // B is at its delete
    const a = lockA.acquire(5000).then(
      () => holders.set("room-a", lockA),
      (e: unknown) => e,
    );
    await a.finally(aSettled);
    const bResult = await b;

    expect([...holders.keys()]).toHaveLength(1);
    const winner = [...holders.keys()][0];
    expect(await shared.hget(KEY, "owner")).toBe(winner);
    const loser = winner === "room-a" ? bResult : await a;
    expect(loser).toMatchObject({ code: JoinErrorCodes.WORLD_IN_USE });
  });

  it("a contender alone takes a dead owner's lock over; a live owner's lock it does not", async () => {
    const presence = new LocalPresence();
    await staleLock(presence);
    const holders = new Map<string, WorldLock>();
    // room-1's process can die: from then on its writes (its beats) go nowhere.
    let room1Dead = false;
    const room1Presence = new Proxy(presence, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => (room1Dead ? Promise.resolve(undefined) : value.apply(target, args));
      },
    }) as Presence;
    const first = new WorldLock(room1Presence, "w", "room-1", cluster(holders));
    await first.acquire(2000);
    holders.set("room-1", first);
    expect(await presence.hget(KEY, "owner")).toBe("room-1");

    const second = new WorldLock(presence, "w", "room-2", cluster(holders));
    await expect(second.acquire(3000)).rejects.toMatchObject({ code: JoinErrorCodes.WORLD_IN_USE });
    expect(await presence.hget(KEY, "owner")).toBe("room-1");

    // room-1's process dies without releasing (no more beats, no answer): room-2 takes over.
    room1Dead = true;
    holders.delete("room-1");
    await second.acquire(WorldLock.STALE_BEAT_MS + 3000); // once its last beat is stale
    expect(await presence.hget(KEY, "owner")).toBe("room-2");
  });

  it("a room still in onCreate (Colyseus does not route remote calls to it yet) keeps its world: a contender is refused", async () => {
    const presence = new LocalPresence();
    const noAnswer = async (): Promise<"gone"> => "gone"; // what remoteRoomCall gives before onCreate returns
    const loading = new WorldLock(presence, "w", "room-loading", noAnswer);
    await loading.acquire(2000);
    await new Promise((r) => setTimeout(r, WorldLock.BEAT_MS * 1.5)); // beats go on while the world loads
    const contender = new WorldLock(presence, "w", "room-late", noAnswer);
    await expect(contender.acquire(3000)).rejects.toMatchObject({ code: JoinErrorCodes.WORLD_IN_USE });
    expect(await presence.hget(KEY, "owner")).toBe("room-loading");
    await loading.release();
    await contender.acquire(2000);
    expect(await presence.hget(KEY, "owner")).toBe("room-late");
    await contender.release();
  });
});
