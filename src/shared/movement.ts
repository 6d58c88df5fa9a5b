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
