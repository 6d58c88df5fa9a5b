import { type InputAck, type KeyState, anyKeyHeld, stepPosition } from "../shared/movement";
import type { Vec3 } from "../shared/vector";
import { type MMOSession, NO_KEYS } from "./Sessions";
import type { MMOSettings } from "./settings";
import type { World } from "./World";

/** What the server has applied of a session's latest key state (what its `ack` reports). */
interface Applied {
  /** The input's `seq`; undefined for a client that sends none (it gets no acks). */
  seq?: number;
  /** How long these keys have been applied, ms. */
  ms: number;
  /** Up to when (`now()`) the keys have been applied. */
  at: number;
  /** What the last ack said: the same is never sent twice. */
  acked?: { seq: number; x: number; y: number };
}

/**
 * Server-side movement: players who hold direction keys (`input`) move at `speed`, stepped
 * right before every patch (MMORoom.onBeforePatch), with the same `stepPosition` the browser
 * predicts with; and the `maxSpeed` check on client-sent positions. Costs one step per moving
 * player per patch.
 *
 * Keys are applied for exactly as long as they were held between two inputs, not in whole
 * steps: a new input first finishes the old keys up to its arrival. That is what lets the
 * client replay its own inputs on top of an `ack` and land where the server does.
 */
export class Movement {
  private readonly moving = new Set<MMOSession>();
  private readonly applied = new WeakMap<MMOSession, Applied>();
  /** Sessions whose input `seq` changed since their last ack. */
  private readonly unacked = new Set<MMOSession>();

  constructor(
    private readonly world: World,
    private readonly settings: Pick<MMOSettings, "speed" | "mapLimits" | "maxSpeed" | "patchRate">,
    /** Called after each step that moved a player (the room's `onPlayerMove`). */
    private readonly onMove: (session: MMOSession) => void,
    /** A monotonic clock in ms, read when an input arrives (the room clock only ticks per step). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The keys a player holds from now on; `seq` (the input's) asks for acks. */
  setKeys(session: MMOSession, keys: KeyState, seq?: number): void {
    const now = this.now();
    this.advance(session, now);
    session.keys = keys;
    this.applied.set(session, { seq, ms: 0, at: now, acked: this.applied.get(session)?.acked });
    if (seq !== undefined) this.unacked.add(session);
    else this.unacked.delete(session);
    if (anyKeyHeld(keys)) this.moving.add(session);
    else this.moving.delete(session);
  }

  /**
   * A handoff's old side: applies the held keys up to now, then says which input (`seq`) is
   * being applied and for how long so far, for the new region to go on with (`resume`).
   */
  settle(session: MMOSession): { seq?: number; ms: number } {
    this.advance(session, this.now());
    const applied = this.applied.get(session);
    return { seq: applied?.seq, ms: applied?.ms ?? 0 };
  }

  /**
   * A handoff's new side: the keys the old region applied go on, the same input (`seq`) with
   * its duration so far (`ms`), so the next acks continue the client's timeline rather than
   * start one of their own (which the client's prediction would see as a jump).
   */
  resume(session: MMOSession, keys: KeyState, seq: number | undefined, ms: number): void {
    this.setKeys(session, keys, seq);
    const applied = this.applied.get(session);
    if (applied) applied.ms = Math.max(0, ms);
  }

  /** Stops a player (a dropped or leaving client). */
  stop(session: MMOSession): void {
    this.moving.delete(session);
    this.unacked.delete(session);
    session.keys = { ...NO_KEYS };
  }

  /** One step: every player holding a key moves for the time since its last move. */
  step(now: number = this.now()): void {
    for (const session of this.moving) this.advance(session, now);
  }

  /**
   * The acks due with this patch, to `send`: for each player with a `seq` who moved or whose
   * seq changed since its last ack. None for players who send positions or no seq.
   */
  acks(send: (session: MMOSession, ack: InputAck) => void): void {
    for (const session of this.unacked) this.ack(session, send);
    this.unacked.clear();
    for (const session of this.moving) this.ack(session, send);
  }

  /**
   * True when going to `pos` at room time `now` would take the player faster than
   * `maxSpeed` since its last accepted position. A small allowance covers network jitter.
   */
  tooFast(session: MMOSession, pos: Vec3, now: number): boolean {
    return this.fasterThanAllowed(session.player, pos, now - (session.movedAt ?? now));
  }

  /**
   * True when going from `from` to `pos` in `elapsedMs` would be faster than `maxSpeed`
   * (a returning player's first position, from where it was remembered and since when).
   */
  fasterThanAllowed(from: Vec3, pos: Vec3, elapsedMs: number): boolean {
    const { maxSpeed, patchRate } = this.settings;
    if (maxSpeed <= 0) return false;
    // At least one patch (jitter), at most one second: idling earns no teleport.
    const elapsed = Math.min(1000, Math.max(patchRate, elapsedMs)) / 1000;
    const distance = Math.hypot(pos.x - from.x, pos.y - from.y, pos.z - from.z);
    return distance > maxSpeed * elapsed + 1;
  }

  /** Applies a moving player's keys from where they were last applied up to `now`. */
  private advance(session: MMOSession, now: number): void {
    if (!this.moving.has(session)) return;
    const applied = this.applied.get(session);
    if (!applied || now <= applied.at) return;
    const dtMs = now - applied.at;
    applied.at = now;
    applied.ms += dtMs;
    const { speed, mapLimits } = this.settings;
    const { player } = session;
    const next = stepPosition(player, session.keys, speed, dtMs, mapLimits.lower, mapLimits.higher);
    if (next.x === player.x && next.y === player.y) return;
    this.world.place(player, next);
    this.onMove(session);
  }

  private ack(session: MMOSession, send: (session: MMOSession, ack: InputAck) => void): void {
    const applied = this.applied.get(session);
    if (applied?.seq === undefined) return;
    const { seq } = applied;
    const { x, y } = session.player;
    const last = applied.acked;
    if (last && last.seq === seq && last.x === x && last.y === y) return;
    applied.acked = { seq, x, y };
    send(session, { seq, x, y, ms: Math.round(applied.ms) });
  }
}
