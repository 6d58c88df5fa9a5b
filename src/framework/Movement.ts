import { type KeyState, anyKeyHeld, stepPosition } from "../shared/movement";
import type { Vec3 } from "../shared/vector";
import { type MMOSession, NO_KEYS } from "./Sessions";
import type { MMOSettings } from "./settings";
import type { World } from "./World";

/**
 * Server-side movement: players who hold direction keys (`input`) move at `speed` every
 * simulation step, with the same `stepPosition` the browser predicts with; and the
 * `maxSpeed` check on client-sent positions. Costs one step per moving player per tick.
 */
export class Movement {
  private readonly moving = new Set<MMOSession>();

  constructor(
    private readonly world: World,
    private readonly settings: Pick<MMOSettings, "speed" | "mapLimits" | "maxSpeed" | "patchRate">,
    /** Called after each step that moved a player (the room's `onPlayerMove`). */
    private readonly onMove: (session: MMOSession) => void,
  ) {}

  /** The keys a player holds now; the player moves from the next step while any is held. */
  setKeys(session: MMOSession, keys: KeyState): void {
    session.keys = keys;
    if (anyKeyHeld(keys)) this.moving.add(session);
    else this.moving.delete(session);
  }

  /** Stops a player (a dropped or leaving client). */
  stop(session: MMOSession): void {
    this.moving.delete(session);
    session.keys = { ...NO_KEYS };
  }

  /** One simulation step of `dtMs` for every player holding a key. */
  step(dtMs: number): void {
    const { speed, mapLimits } = this.settings;
    for (const session of this.moving) {
      const { player } = session;
      const next = stepPosition(player, session.keys, speed, dtMs, mapLimits.lower, mapLimits.higher);
      if (next.x === player.x && next.y === player.y) continue;
      this.world.place(player, next);
      this.onMove(session);
    }
  }

  /**
   * True when going to `pos` at room time `now` would take the player faster than
   * `maxSpeed` since its last accepted position. A small allowance covers network jitter.
   */
  tooFast(session: MMOSession, pos: Vec3, now: number): boolean {
    const { maxSpeed, patchRate } = this.settings;
    if (maxSpeed <= 0) return false;
    // At least one patch (jitter), at most one second: idling earns no teleport.
    const elapsed = Math.min(1000, Math.max(patchRate, now - (session.movedAt ?? now))) / 1000;
    const { player } = session;
    const distance = Math.hypot(pos.x - player.x, pos.y - player.y, pos.z - player.z);
    return distance > maxSpeed * elapsed + 1;
  }
}
