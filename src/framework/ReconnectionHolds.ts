import type { MMOSession } from "./Sessions";
import type { MMOSettings } from "./settings";

/**
 * Which dropped players the room holds for their client to reconnect, and for how long. A held
 * player stays in the world (and in its neighbours' views) with all it costs, so holding is
 * bounded three ways:
 * - a player that never played (still in limbo, or standing where it entered) is held only
 *   `shortHoldSeconds`: a join that ends in a dropped socket costs seconds, not `reconnectSeconds`;
 * - at most `maxHeldPerAddress` are held per client address, and `maxHeldShare` of `maxUsers`
 *   per world. Over a cap, the **oldest** held player goes (its reconnection is refused, it
 *   leaves as after a timeout): it has waited longest, so it is the least likely to come back,
 *   while the newest drop is the one whose client is reconnecting right now. Refusing the new
 *   drop instead would let whoever filled the cap first keep it.
 */

type HoldSettings = Pick<MMOSettings, "reconnectSeconds" | "shortHoldSeconds" | "maxHeldPerAddress" | "maxHeldShare" | "maxUsers">;

/** True while a player has not played: in limbo, or still where it took its first position. */
export function neverMoved(session: MMOSession): boolean {
  if (session.inLimbo) return true;
  const at = session.entryPoint;
  if (!at) return false; // arrived by handoff: it walked here
  const { player } = session;
  return player.x === at.x && player.y === at.y && player.z === at.z;
}

/** Seconds to hold a player whose client just dropped. */
export function holdSeconds(session: MMOSession, s: HoldSettings): number {
  return neverMoved(session) ? Math.min(s.shortHoldSeconds, s.reconnectSeconds) : s.reconnectSeconds;
}

/** Held players a world may keep: a share of `maxUsers`, never fewer than 4 (small worlds). */
export function heldCap(s: HoldSettings): number {
  return Math.min(s.maxUsers, Math.max(4, Math.ceil(s.maxUsers * s.maxHeldShare)));
}

/**
 * The held players to let go so that `dropped` can be held too: the oldest of its address over
 * `maxHeldPerAddress` (0: no limit per address), then the oldest of the world over `heldCap`.
 */
export function releasedFor(dropped: MMOSession, sessions: Iterable<MMOSession>, s: HoldSettings): MMOSession[] {
  const held = [...sessions].filter((x) => x !== dropped && x.reconnection && !x.kicked);
  held.sort((a, b) => (a.heldSince ?? 0) - (b.heldSince ?? 0));
  const out: MMOSession[] = [];
  if (s.maxHeldPerAddress > 0 && dropped.address !== undefined) {
    const sameAddress = held.filter((x) => x.address === dropped.address);
    out.push(...sameAddress.slice(0, Math.max(0, sameAddress.length + 1 - s.maxHeldPerAddress)));
  }
  const rest = held.filter((x) => !out.includes(x));
  out.push(...rest.slice(0, Math.max(0, rest.length + 1 - heldCap(s))));
  return out;
}
