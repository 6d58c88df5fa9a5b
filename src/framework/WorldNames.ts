import { type Clock, type Presence, matchMaker } from "@colyseus/core";
import { nameCandidates, nameSkeletons } from "./names";

/** Who holds a name: the player (its world-global id, kept across handoffs) and the room it plays in. */
interface Holder {
  player: string;
  room: string;
}

/**
 * The display names of one world split into regions, world-wide (presence: Redis in a cluster),
 * as PlayingIdentities keeps its identities: a look-alike of a name any player of the world
 * holds, in any region, is renamed `name (n)`, at join and when a player arrives by handoff.
 *
 * One hash per world, `mmo:names:<world>`: per name skeleton (`nameSkeletons`), `c:<skeleton>`
 * counts claims (`hincrby`, atomic: the first claimer wins a race) and `o:<skeleton>` names the
 * holder. A reservation belongs to the player, not the room, so it travels with the player
 * across borders: its own name is never a clash. It is released when the player leaves the
 * world (not on a handoff). The hash expires TTL seconds after the last refresh (every room of
 * the world refreshes it); a holder whose room no longer answers (its process died) is stale,
 * and its name is taken over.
 */
export class WorldNames {
  private readonly key: string;

  constructor(
    private readonly presence: Presence,
    world: string,
    private readonly roomId: string,
    clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    this.key = `mmo:names:${world}`;
    clock.setInterval(() => void this.presence.expire(this.key, this.ttlSeconds), (ttlSeconds * 1000) / 3);
  }

  /**
   * The name `player` gets: `name` when no other player of the world holds a look-alike (and
   * `takenHere` does not refuse it), else the first free `name (2)`, `name (3)`... The name
   * granted is reserved for the player. (A player renamed on arrival keeps its old reservation
   * too, so the look-alike here stays unique; once it leaves, the holder check frees it.)
   */
  async claim(player: string, name: string, takenHere: (skeleton: string) => boolean): Promise<string> {
    for (const candidate of nameCandidates(name)) {
      const skeletons = nameSkeletons(candidate);
      if (skeletons.some(takenHere)) continue;
      if (await this.reserveAll(player, skeletons)) {
        await this.presence.expire(this.key, this.ttlSeconds);
        return candidate;
      }
    }
    throw new Error("unreachable: nameCandidates never ends");
  }

  /** The player left the world: its name is free for others. */
  async release(player: string, name: string): Promise<void> {
    for (const skeleton of nameSkeletons(name)) {
      if ((await this.holder(skeleton))?.player !== player) continue;
      await this.presence.hdel(this.key, `o:${skeleton}`);
      await this.presence.hdel(this.key, `c:${skeleton}`);
    }
  }

  /** Reserves every skeleton of a name, or none (a partial reservation is undone). */
  private async reserveAll(player: string, skeletons: readonly string[]): Promise<boolean> {
    const reserved: string[] = [];
    for (const skeleton of skeletons) {
      if (await this.reserve(player, skeleton)) {
        reserved.push(skeleton);
        continue;
      }
      for (const done of reserved) await this.presence.hdel(this.key, `o:${done}`).then(() => this.presence.hdel(this.key, `c:${done}`));
      return false;
    }
    return true;
  }

  private async reserve(player: string, skeleton: string): Promise<boolean> {
    const mine = JSON.stringify({ player, room: this.roomId } satisfies Holder);
    if ((await this.presence.hincrby(this.key, `c:${skeleton}`, 1)) === 1) {
      await this.presence.hset(this.key, `o:${skeleton}`, mine);
      return true;
    }
    const holder = await this.holder(skeleton);
    // No holder yet: another claim is between its count and its write. Taken.
    if (!holder) return false;
    if (holder.player !== player && (await holdsPlayer(holder))) return false;
    // Its own (it travels with the player: the room is updated), or a stale holder's.
    await this.presence.hset(this.key, `o:${skeleton}`, mine);
    return true;
  }

  private async holder(skeleton: string): Promise<Holder | undefined> {
    const raw = await this.presence.hget(this.key, `o:${skeleton}`);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as Holder;
    } catch {
      return undefined;
    }
  }
}

/** True when the holder's room answers that the player is there; no answer (a dead process): false. */
async function holdsPlayer(holder: Holder): Promise<boolean> {
  try {
    return (await matchMaker.remoteRoomCall(holder.room, "hasPlayer", [holder.player])) === true;
  } catch {
    return false;
  }
}
