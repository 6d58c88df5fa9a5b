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
 *
 * "No answer" alone is not proof of death: Colyseus subscribes a room to remote calls only
 * after its `onCreate` has returned, and the lock is taken early in `onCreate` (the world is
 * loaded after it). So the owner also beats in the lock, once a second from the moment it
 * takes it; an owner that beats but does not answer is waited for (like a closing one), and a
 * lock is taken over only when the beat is stale *and* the owner does not answer. Without the
 * beat, a second room created while the first was still loading its world took the world
 * over (split brain).
 *
 * A takeover is claimed first, in a key of its own that outlives the lock: contenders that
 * all find the same dead owner race `hincrbyex` on its name and only the one that gets 1 may
 * delete the lock. Without the claim, a slow contender's check-then-delete could delete the
 * lock a faster one had just taken over, and both rooms would hold the world (split brain).
 */
export class WorldLock {
  /** A crashed owner's lock expires after this; a live owner refreshes it every third of it. */
  static TTL_SECONDS = 30;
  /** How long a new room waits for the previous room of its world to close (drain and final save included). */
  static WAIT_MS = 15_000;
  /** How long a closing owner may take (drain and final save) before contenders take the lock over. */
  static CLOSING_MS = 60_000;
  /** How often the owner writes its beat into the lock (one presence write). */
  static BEAT_MS = 1000;
  /** A beat older than this (three missed) lets contenders ask whether the owner is gone. */
  static STALE_BEAT_MS = 3000;
  /** How long a takeover claim is remembered: longer than any contender's wait. */
  static TAKEOVER_TTL_SECONDS = 120;
  private readonly key: string;
  private readonly takeoverKey: string;
  private held = false;
  private beating?: ReturnType<typeof setInterval>;

  /**
   * @param askOwner how a contender learns the owner room's state; Colyseus's
   *   `remoteRoomCall` by default (tests pass their own to script a cluster).
   */
  constructor(
    private readonly presence: Presence,
    world: string,
    private readonly roomId: string,
    private readonly askOwner: (roomId: string) => Promise<LockState | "gone"> = ownerState,
  ) {
    this.key = `mmo:world-lock:${world}`;
    this.takeoverKey = `mmo:world-lock-takeover:${world}`;
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
        // The beat before the owner: a contender that reads an owner always finds its beat.
        await this.beat();
        await this.presence.hset(this.key, "owner", this.roomId);
        this.held = true;
        this.beating = setInterval(() => void (this.held && this.beat().catch(() => {})), WorldLock.BEAT_MS);
        this.beating.unref();
        return;
      }
      const owner = await this.presence.hget(this.key, "owner");
      const beatAge = Date.now() - Number((await this.presence.hget(this.key, "beat")) ?? 0);
      // A closing owner says so in the lock itself: it may already be unreachable (Colyseus
      // unregisters a disposing room) while it writes its final save.
      const closing = (await this.presence.hget(this.key, "state")) === "closing";
      // A closing owner that died before it released (a crash during its final save) must
      // not hold the world for ever: its promise to close has a deadline.
      const overdue = closing && Date.now() > Number((await this.presence.hget(this.key, "closingUntil")) ?? 0);
      let state = overdue ? "gone" : !owner || closing ? "closing" : await this.askOwner(owner);
      // Beating but not answering: still in its onCreate, or it died within the last beats.
      // Wait either way; a dead owner's beat goes stale in seconds.
      if (state === "gone" && !overdue && beatAge <= WorldLock.STALE_BEAT_MS) state = "closing";
      if (state === "gone") {
        // Its process died: the lock is stale. Only the first contender to claim this owner's
        // takeover deletes it (and only if the lock is still that owner's); the others go round
        // again and find the new owner live.
        const claim = await this.presence.hincrbyex(this.takeoverKey, owner ?? "", 1, WorldLock.TAKEOVER_TTL_SECONDS);
        if (claim === 1 && (await this.presence.hget(this.key, "owner")) === owner) await this.presence.del(this.key);
        await sleep(claim === 1 ? 0 : 50);
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

  private async beat(): Promise<void> {
    await this.presence.hset(this.key, "beat", String(Date.now()));
  }

  /** Keeps the lock alive (call every TTL/3). */
  async refresh(): Promise<void> {
    if (this.held) await this.presence.expire(this.key, WorldLock.TTL_SECONDS);
  }

  /** Releases the lock if this room still owns it. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    clearInterval(this.beating);
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
