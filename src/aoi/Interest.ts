import type { SpatialGrid } from "./SpatialGrid";
import type { Vec3 } from "../shared/vector";

/** Cells of the current update (updates run one at a time). */
const SCRATCH_CELLS: number[][] = [];

/** What changed in one observer's view of one kind of entity since the last proximity update. */
export interface ProximityDiff<T> {
  entered: T[];
  left: T[];
}

/**
 * One observer's set of visible entities of one kind, with hysteresis.
 *
 * An entity enters when it is inside the AoI box; it leaves only when it is outside the box
 * grown by `margin` on some axis, so an entity on the border does not flicker. `margin = 0`
 * is SmartFoxServer's exact rule. An entity already visible is never reported as entered
 * again, which is what keeps a StateView from re-sending it in full.
 *
 * The set is a list of grid handles with their generations (a handle freed by the grid is
 * recognised and dropped). One update marks the visible handles, scans the cells around the
 * observer once, and keeps or adds by testing plain numbers. An entity removed from the grid
 * is dropped at the next update without being reported as left: whoever removed it already
 * knows (the room removes it from the state, which removes it from every view).
 *
 * Per-entity visibility ranges (`ranges.ts`, set through InterestManager): an entity with a
 * range is tested against its own box instead of the AoI, with the same hysteresis. A NEAR
 * entity is tested among the cell candidates (its box fits inside the scanned cells); a FAR
 * one is skipped there and tested from the grid's `farHandles`, so each update also costs
 * one test per far entity. While no entity of the grid has a range (`rangedCount` 0), the
 * scan is the plain AoI test and costs what it did before ranges existed.
 */
export class Interest<T> {
  private handles: number[] = [];
  private gens: number[] = [];
  private nextHandles: number[] = [];
  private nextGens: number[] = [];
  private grid?: SpatialGrid<T>;

  /** The visible entities (a new set: for inspection and tests, not the hot path). */
  get visible(): ReadonlySet<T> {
    const grid = this.grid;
    const out = new Set<T>();
    if (grid) this.handles.forEach((h, i) => grid.gen[h] === this.gens[i] && out.add(grid.entities[h]!));
    return out;
  }

  get size(): number {
    return this.handles.length;
  }

  /**
   * Recomputes the visible set around `center` and returns what entered and what left.
   * @param leaveBox the AoI half-extents plus the margin (precomputed by the caller).
   * @param self an entity never reported (the observer's own avatar).
   */
  update(grid: SpatialGrid<T>, center: Vec3, aoi: Vec3, leaveBox: Vec3, self?: T): ProximityDiff<T> {
    this.grid = grid;
    const epoch = grid.nextEpoch();
    const { visMark, keepMark, xs, ys, zs, entities, gen } = grid;
    const selfHandle = self === undefined ? -1 : grid.handleOf(self);
    const handles = this.handles;
    const gens = this.gens;
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i];
      if (gen[h] === gens[i]) visMark[h] = epoch;
    }

    const next = this.nextHandles;
    const nextGens = this.nextGens;
    let n = 0;
    const entered: T[] = [];
    const cells = SCRATCH_CELLS;
    cells.length = 0;
    grid.cellsInBox(center, leaveBox, cells);
    const cx = center.x, cy = center.y, cz = center.z;
    const ax = aoi.x, ay = aoi.y, az = aoi.z;
    const lx = leaveBox.x, ly = leaveBox.y, lz = leaveBox.z;
    const { rangeKind, rangeBox } = grid;
    // Class literals and one condition in the hot loop (a first version reading the imported
    // constants with a branch more cost ~40% on the plain 5k scene, measured):
    // 0 = RANGE_DEFAULT (the AoI test), 2 = RANGE_FAR (tested below, from the far handles).
    const ranged = grid.rangedCount !== 0;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      for (let i = 0; i < cell.length; i++) {
        const h = cell[i];
        if (h === selfHandle) continue;
        const dx = Math.abs(xs[h] - cx);
        const dy = Math.abs(ys[h] - cy);
        const dz = Math.abs(zs[h] - cz);
        const wasVisible = visMark[h] === epoch;
        const kind = ranged ? rangeKind[h] : 0;
        if (kind === 0 ? (dx <= ax && dy <= ay && dz <= az) || (wasVisible && dx <= lx && dy <= ly && dz <= lz) : kind !== 2 && insideOwnBox(rangeBox, h, dx, dy, dz, wasVisible)) {
          keepMark[h] = epoch;
          next[n] = h;
          nextGens[n++] = gen[h];
          if (!wasVisible) entered.push(entities[h]!);
        }
      }
    }
    // Far-visible entities, wherever they are: one test each.
    const far = grid.farHandles;
    for (let i = 0; i < far.length; i++) {
      const h = far[i];
      if (h === selfHandle) continue;
      const wasVisible = visMark[h] === epoch;
      if (insideOwnBox(rangeBox, h, Math.abs(xs[h] - cx), Math.abs(ys[h] - cy), Math.abs(zs[h] - cz), wasVisible)) {
        keepMark[h] = epoch;
        next[n] = h;
        nextGens[n++] = gen[h];
        if (!wasVisible) entered.push(entities[h]!);
      }
    }
    next.length = n;
    nextGens.length = n;
    const left: T[] = [];
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i];
      // A stale handle (its entity left the grid) is dropped silently.
      if (keepMark[h] !== epoch && gen[h] === gens[i]) left.push(entities[h]!);
    }
    cells.length = 0;
    this.nextHandles = handles;
    this.nextGens = gens;
    this.handles = next;
    this.gens = nextGens;
    return { entered, left };
  }
}

/** The hysteresis test against a handle's own range (`SpatialGrid.rangeBox`: enter box, then leave box). */
function insideOwnBox(box: Float64Array, h: number, dx: number, dy: number, dz: number, wasVisible: boolean): boolean {
  const o = h * 6;
  if (dx <= box[o] && dy <= box[o + 1] && dz <= box[o + 2]) return true;
  return wasVisible && dx <= box[o + 3] && dy <= box[o + 4] && dz <= box[o + 5];
}
