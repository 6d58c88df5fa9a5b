import { type Presence, ServerError, matchMaker } from "@colyseus/core";
import { JoinErrorCodes } from "../shared/codes";

/**
 * Which room each guest identity plays in, per world, cluster-wide (presence): one identity
 * cannot play the same world twice from two rooms (two tabs, two devices, a stale room).
 * The room-local check (a dropped session of the same player is replaced) stays in Sessions.
 */
export class PlayingIdentities {
  private readonly key: string;

  constructor(
    private readonly presence: Presence,
    world: string,
    private readonly roomId: string,
  ) {
    this.key = `mmo:playing:${world}`;
  }

  /** Refuses (4409) an identity connected to another live room of this world. */
  async admit(identity: string): Promise<void> {
    const holder = await this.presence.hget(this.key, identity);
    if (!holder || holder === this.roomId) return;
    let playing = false;
    try {
      playing = (await matchMaker.remoteRoomCall(holder, "isPlaying", [identity])) === true;
    } catch {
      // No answer: that room's process is gone, so is the player.
    }
    if (playing) throw new ServerError(JoinErrorCodes.IDENTITY_IN_USE, "this identity is already playing in this world");
  }

  async enter(identity: string, ttlSeconds: number): Promise<void> {
    await this.presence.hset(this.key, identity, this.roomId);
    await this.presence.expire(this.key, ttlSeconds);
  }

  async leave(identity: string): Promise<void> {
    if ((await this.presence.hget(this.key, identity)) === this.roomId) await this.presence.hdel(this.key, identity);
  }

  async refresh(ttlSeconds: number): Promise<void> {
    await this.presence.expire(this.key, ttlSeconds);
  }
}
