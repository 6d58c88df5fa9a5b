import type { Vec3 } from "../shared/vector";

/**
 * Per-entity visibility ranges and custom AoI boxes: the checks, and how a range is classed.
 *
 * The range belongs to the seen entity: observer C sees entity E when E is inside C's box of
 * E's range (E's range per axis if set, else the room's AoI), with the same hysteresis as
 * the AoI (enter inside the range, leave only outside range + margin). The grid keeps each
 * handle's class, so an observer's update pays for a range only where one is set:
 * - DEFAULT (no range, or one equal to the AoI): today's test against the AoI constants.
 * - NEAR (at most the AoI on every axis, smaller on some): the same grid candidates, tested
 *   against the entity's own box (one extra branch and six numbers read per such candidate).
 * - FAR (larger than the AoI on some axis): skipped in the cells and tested from a separate
 *   list of far handles by every observer: observers x far entities per update.
 */
export const RANGE_DEFAULT = 0;
export const RANGE_NEAR = 1;
export const RANGE_FAR = 2;
export type RangeKind = typeof RANGE_DEFAULT | typeof RANGE_NEAR | typeof RANGE_FAR;

const AXES = ["x", "y", "z"] as const;

/** `{x: 1, y: 2, z: 3}`, for error messages. */
export function formatVec(v: Vec3): string {
  return `{x: ${v.x}, y: ${v.y}, z: ${v.z}}`;
}

/** A box of half-extents: finite numbers >= 0 on every axis. */
function isExtents(v: unknown): v is Vec3 {
  if (v === null || typeof v !== "object") return false;
  const b = v as Record<string, unknown>;
  return AXES.every((a) => typeof b[a] === "number" && Number.isFinite(b[a]) && (b[a] as number) >= 0);
}

/**
 * SmartFoxServer's rule for a custom AoI (getProximityList & co.): it may be smaller than the
 * room's AoI, never larger on any axis. Returns `box`; O(1).
 * @throws RangeError naming both sizes when it is larger, or when it is not finite numbers >= 0.
 */
export function checkCustomAoi(box: Vec3, aoi: Vec3): Vec3 {
  if (box === aoi) return box; // the default argument: nothing to check or allocate (chat calls this per message)
  if (!isExtents(box)) throw new RangeError(`a custom AoI must be {x, y, z} of finite numbers >= 0, got ${JSON.stringify(box)}`);
  const over = AXES.filter((a) => box[a] > aoi[a]);
  if (over.length) {
    throw new RangeError(
      `custom AoI ${formatVec(box)} is larger than the room's AoI ${formatVec(aoi)} on ${over.join(", ")}: a custom AoI may be at most the room's on every axis (SmartFoxServer's rule)`,
    );
  }
  return box;
}

/**
 * Checks a per-entity visibility range: finite numbers, positive on every axis where the AoI
 * is (a flat axis of a 2D world, AoI 0, takes 0), at most `maxFactor` x the AoI on each axis.
 * Returns a copy; O(1).
 * @throws RangeError naming the range, the AoI and the cap.
 */
export function checkVisibilityRange(range: Vec3, aoi: Vec3, maxFactor: number): Vec3 {
  const cap = { x: aoi.x * maxFactor, y: aoi.y * maxFactor, z: aoi.z * maxFactor };
  const limits = `(the room's AoI is ${formatVec(aoi)}; a range may be at most ${maxFactor}x it, ${formatVec(cap)})`;
  if (!isExtents(range)) throw new RangeError(`a visibility range must be {x, y, z} of finite numbers >= 0, got ${JSON.stringify(range)} ${limits}`);
  for (const a of AXES) {
    if (aoi[a] > 0 && !(range[a] > 0)) throw new RangeError(`visibility range ${formatVec(range)}: ${a} must be positive ${limits}`);
    if (range[a] > cap[a]) throw new RangeError(`visibility range ${formatVec(range)} is larger than the cap on ${a} ${limits}`);
  }
  return { x: range.x, y: range.y, z: range.z };
}

/** How the grid treats an entity with this range (see the classes above). */
export function rangeKind(range: Vec3 | undefined, aoi: Vec3): RangeKind {
  if (range === undefined) return RANGE_DEFAULT;
  if (range.x > aoi.x || range.y > aoi.y || range.z > aoi.z) return RANGE_FAR;
  if (range.x === aoi.x && range.y === aoi.y && range.z === aoi.z) return RANGE_DEFAULT;
  return RANGE_NEAR;
}
