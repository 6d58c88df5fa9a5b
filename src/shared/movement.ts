import type { Vec3 } from "./vector";

/** Which direction keys a player holds. */
export interface KeyState {
  up: boolean;
  down: boolean;
  left: boolean;
  right: boolean;
}

export function anyKeyHeld(k: KeyState): boolean {
  return k.up || k.down || k.left || k.right;
}

/**
 * Where a player holding `keys` ends after `dtMs` at `speed` units per second, clamped to
 * the map. y grows downwards (screen convention); diagonals move at the same speed.
 */
export function stepPosition(p: Vec3, keys: KeyState, speed: number, dtMs: number, lower: Vec3, higher: Vec3): Vec3 {
  let dx = Number(keys.right) - Number(keys.left);
  let dy = Number(keys.down) - Number(keys.up);
  if (dx !== 0 && dy !== 0) {
    dx *= Math.SQRT1_2;
    dy *= Math.SQRT1_2;
  }
  const d = (speed * dtMs) / 1000;
  return {
    x: clamp(p.x + dx * d, lower.x, higher.x),
    y: clamp(p.y + dy * d, lower.y, higher.y),
    z: p.z,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Server -> client `ack`, sent only to the player who moves with keys (`input` with a `seq`):
 * the last input the server applied, for how long so far, and where that left the player.
 * The client replays what it did since on top of it (client prediction with reconciliation).
 * Sent with a patch while the player moves or after its `seq` changed, never per step.
 */
export interface InputAck {
  /** The `seq` of the newest `input` the server applies. */
  seq: number;
  /** The authoritative position after applying it for `ms`. */
  x: number;
  y: number;
  /** How long (ms, rounded) the server has applied the keys of `seq` so far. */
  ms: number;
}
