import type { SpatialGrid } from "./SpatialGrid";
import type { Vec3 } from "./vector";
import { insideBox } from "./vector";

/** What changed in one observer's view of one kind of entity since the last proximity update. */
export interface ProximityDiff<T> {
  entered: T[];
  left: T[];
}

/**
 * One observer's set of visible entities of one kind, with hysteresis.
 *
 * An entity enters when it is inside the AoI box; it leaves only when it is outside the box
 * grown by `margin` on some axis (or is gone from the grid), so an entity on the border does
 * not flicker. `margin = 0` is SmartFoxServer's exact rule. An entity already visible is never
 * reported as entered again, which is what keeps a StateView from re-sending it in full.
 */
export class Interest<T> {
  readonly visible = new Set<T>();
  private readonly candidates: T[] = [];

  /**
   * Recomputes the visible set around `center` and returns what entered and what left.
   * @param leaveBox the AoI half-extents plus the margin (precomputed by the caller).
   * @param self an entity never reported (the observer's own avatar).
   */
  update(grid: SpatialGrid<T>, center: Vec3, aoi: Vec3, leaveBox: Vec3, self?: T): ProximityDiff<T> {
    const left: T[] = [];
    for (const entity of this.visible) {
      const p = grid.position(entity);
      if (!p || !insideBox(p, center, leaveBox)) {
        this.visible.delete(entity);
        left.push(entity);
      }
    }
    const entered: T[] = [];
    const candidates = this.candidates;
    candidates.length = 0;
    grid.queryBox(center, aoi, candidates);
    for (const entity of candidates) {
      if (entity !== self && !this.visible.has(entity)) {
        this.visible.add(entity);
        entered.push(entity);
      }
    }
    candidates.length = 0;
    return { entered, left };
  }

  /** Drops `entity` without reporting it (it was removed from the world). */
  forget(entity: T): boolean {
    return this.visible.delete(entity);
  }

  /** Empties the set and returns what was visible. */
  clear(): T[] {
    const all = [...this.visible];
    this.visible.clear();
    return all;
  }
}
