import type { Vec3 } from "../shared/vector";

/**
 * One step of a wandering walk: move toward `target` by at most `step`; returns the new
 * position and whether the target was reached (time to pick another).
 */
export function stepToward(p: Vec3, target: Vec3, step: number): { position: Vec3; arrived: boolean } {
  const dx = target.x - p.x;
  const dy = target.y - p.y;
  const dist = Math.hypot(dx, dy);
  if (dist <= step) return { position: { x: target.x, y: target.y, z: p.z }, arrived: true };
  return { position: { x: p.x + (dx / dist) * step, y: p.y + (dy / dist) * step, z: p.z }, arrived: false };
}

/** A random point within `radius` of `p` (per axis), inside the map. */
export function nearbyTarget(p: Vec3, radius: number, lower: Vec3, higher: Vec3, random: () => number = Math.random): Vec3 {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return {
    x: clamp(p.x + (random() * 2 - 1) * radius, lower.x, higher.x),
    y: clamp(p.y + (random() * 2 - 1) * radius, lower.y, higher.y),
    z: p.z,
  };
}
