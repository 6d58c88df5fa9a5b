import { type Presence, ServerError, matchMaker } from "@colyseus/core";
import { JoinErrorCodes } from "../shared/codes";

/** What a lock owner says of itself when a contender asks (`worldLockState` on its room). */
export type LockState = "live" | "closing";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One live room per world, cluster-wide: a lock in presence (Redis with REDIS_URL, memory
 * otherwise), taken in `onCreate` before the world is loaded, refreshed while the room
 * lives, released on dispose after the final save. So a second room for a live world is
 * refused (WORLD_IN_USE), and a room for a world whose previous room is closing waits until
 * that room's last save is written before it loads the world.
 *
 * Acquisition is one atomic increment with expiry (`hincrbyex`): the caller that gets 1
 * owns the lock. A contender asks the owner room for its state through Colyseus's
 * `remoteRoomCall` (any process): `live` -> refused, `closing` -> wait; no answer -> the
 * owner's process is gone and the lock is taken over.
 */
export class WorldLock {
  /** A crashed owner's lock expires after this; a live owner refreshes it every third of it. */
  static TTL_SECONDS = 30;
  /** How long a new room waits for the previous room of its world to close (drain and final save included). */
  static WAIT_MS = 15_000;
  /** How long a closing owner may take (drain and final save) before contenders take the lock over. */
  static CLOSING_MS = 60_000;
  private readonly key: string;
  private held = false;

  constructor(
    private readonly presence: Presence,
    world: string,
    private readonly roomId: string,
  ) {
    this.key = `mmo:world-lock:${world}`;
  }

  /**
   * Takes the lock, waiting up to `waitMs` for a closing owner to release it.
   * @throws ServerError WORLD_IN_USE when a live room holds the world (or waiting timed out).
   */
  async acquire(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    // An owner that is live but empty may be about to close (its last player just left):
    // give it a moment before refusing.
    let liveSince: number | undefined;
    for (;;) {
      const n = await this.presence.hincrbyex(this.key, "n", 1, WorldLock.TTL_SECONDS);
      if (n === 1) {
        await this.presence.hset(this.key, "owner", this.roomId);
        this.held = true;
        return;
      }
      const owner = await this.presence.hget(this.key, "owner");
      // A closing owner says so in the lock itself: it may already be unreachable (Colyseus
      // unregisters a disposing room) while it writes its final save.
      const closing = (await this.presence.hget(this.key, "state")) === "closing";
      // A closing owner that died before it released (a crash during its final save) must
      // not hold the world for ever: its promise to close has a deadline.
      const overdue = closing && Date.now() > Number((await this.presence.hget(this.key, "closingUntil")) ?? 0);
      const state = overdue ? "gone" : !owner || closing ? "closing" : await ownerState(owner);
      if (state === "gone") {
        // Its process died: the lock is stale. Delete it unless someone else took it meanwhile.
        if ((await this.presence.hget(this.key, "owner")) === owner) await this.presence.del(this.key);
        continue;
      }
      if (state === "live") {
        liveSince ??= Date.now();
        if (Date.now() - liveSince > 1500) throw new ServerError(JoinErrorCodes.WORLD_IN_USE, "this world is already live in another room");
      } else liveSince = undefined;
      if (Date.now() > deadline) throw new ServerError(JoinErrorCodes.WORLD_IN_USE, "the world's previous room is still closing; try again");
      await sleep(50);
    }
  }

  /** Tells contenders this room is closing: they wait for `release` (after the final save). */
  async markClosing(): Promise<void> {
    if (!this.held) return;
    await this.presence.hset(this.key, "closingUntil", String(Date.now() + WorldLock.CLOSING_MS));
    await this.presence.hset(this.key, "state", "closing");
  }

  /** Keeps the lock alive (call every TTL/3). */
  async refresh(): Promise<void> {
    if (this.held) await this.presence.expire(this.key, WorldLock.TTL_SECONDS);
  }

  /** Releases the lock if this room still owns it. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    if ((await this.presence.hget(this.key, "owner")) === this.roomId) await this.presence.del(this.key);
  }
}

/** The owner room's answer, or "gone" when no process answers for it. */
async function ownerState(roomId: string): Promise<LockState | "gone"> {
  try {
    const state = (await matchMaker.remoteRoomCall(roomId, "worldLockState")) as LockState | undefined;
    return state ?? "gone";
  } catch {
    return "gone";
  }
}
