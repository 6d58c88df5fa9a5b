/** A point or a set of half-extents in the world's abstract 3D space (2D worlds keep z = 0). */
export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** A position as clients and game code may give it: `z` defaults to 0 (a 2D world). */
export interface Position {
  x: number;
  y: number;
  z?: number;
}

/**
 * True when `p` lies inside the axis-aligned box centred on `c` with half-extents `half`
 * (borders included): SmartFoxServer's AoI test.
 */
export function insideBox(p: Vec3, c: Vec3, half: Vec3): boolean {
  return Math.abs(p.x - c.x) <= half.x && Math.abs(p.y - c.y) <= half.y && Math.abs(p.z - c.z) <= half.z;
}

/** `v + s` on every axis. */
export function growVec(v: Vec3, s: number): Vec3 {
  return { x: v.x + s, y: v.y + s, z: v.z + s };
}

/** True when `p` lies inside the box from `lower` to `higher` (borders included). */
export function insideBounds(p: Vec3, lower: Vec3, higher: Vec3): boolean {
  return p.x >= lower.x && p.x <= higher.x && p.y >= lower.y && p.y <= higher.y && p.z >= lower.z && p.z <= higher.z;
}
