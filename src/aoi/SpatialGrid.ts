import type { Vec3 } from "./vector";
import { insideBox } from "./vector";

interface Entry {
  x: number;
  y: number;
  z: number;
  cell: number;
}

/** Cells per axis are clamped to [-HALF_SPAN, HALF_SPAN); beyond that, entities share the edge cells. */
const SPAN = 1 << 17;
const HALF_SPAN = SPAN >> 1;

function clampCell(c: number): number {
  return c < -HALF_SPAN ? -HALF_SPAN : c >= HALF_SPAN ? HALF_SPAN - 1 : c;
}

/**
 * A uniform grid over 3D space: insert, move, remove and exact box queries.
 *
 * Each entity lives in one cell; a box query visits only the cells the box overlaps and
 * filters their entities exactly, so its cost follows the entities near the box, not the
 * world's size. An axis whose cell size is `Infinity` (the z axis of a 2D world) has one cell.
 * Generic over the entity type and free of any networking import, so it can be tested and
 * benchmarked alone.
 */
export class SpatialGrid<T> {
  private readonly cells = new Map<number, Set<T>>();
  private readonly entries = new Map<T, Entry>();

  /** @param cellSize edge length of a cell on each axis (> 0; `Infinity` collapses the axis). */
  constructor(readonly cellSize: Vec3) {
    for (const axis of ["x", "y", "z"] as const) {
      if (!(cellSize[axis] > 0)) throw new RangeError(`cell size on ${axis} must be > 0, got ${cellSize[axis]}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  has(entity: T): boolean {
    return this.entries.has(entity);
  }

  /** The position the grid holds for `entity` (a live record: do not mutate), or undefined. */
  position(entity: T): Readonly<Vec3> | undefined {
    return this.entries.get(entity);
  }

  /** Adds `entity` at `p`, or moves it there if it is already in the grid. */
  insert(entity: T, p: Vec3): void {
    const entry = this.entries.get(entity);
    if (entry) {
      this.move(entity, p);
      return;
    }
    const cell = this.cellKey(p.x, p.y, p.z);
    this.entries.set(entity, { x: p.x, y: p.y, z: p.z, cell });
    this.bucket(cell).add(entity);
  }

  /** Moves an entity already in the grid; returns false if it is not there. */
  move(entity: T, p: Vec3): boolean {
    const entry = this.entries.get(entity);
    if (!entry) return false;
    entry.x = p.x;
    entry.y = p.y;
    entry.z = p.z;
    const cell = this.cellKey(p.x, p.y, p.z);
    if (cell !== entry.cell) {
      this.unbucket(entry.cell, entity);
      entry.cell = cell;
      this.bucket(cell).add(entity);
    }
    return true;
  }

  remove(entity: T): boolean {
    const entry = this.entries.get(entity);
    if (!entry) return false;
    this.unbucket(entry.cell, entity);
    this.entries.delete(entity);
    return true;
  }

  /** Entities inside the box centred on `center` with half-extents `half`, borders included. */
  queryBox(center: Vec3, half: Vec3, out: T[] = []): T[] {
    const { cellSize } = this;
    const x0 = this.cellIndex(center.x - half.x, cellSize.x);
    const x1 = this.cellIndex(center.x + half.x, cellSize.x);
    const y0 = this.cellIndex(center.y - half.y, cellSize.y);
    const y1 = this.cellIndex(center.y + half.y, cellSize.y);
    const z0 = this.cellIndex(center.z - half.z, cellSize.z);
    const z1 = this.cellIndex(center.z + half.z, cellSize.z);
    for (let cx = x0; cx <= x1; cx++) {
      for (let cy = y0; cy <= y1; cy++) {
        for (let cz = z0; cz <= z1; cz++) {
          const set = this.cells.get(this.packKey(cx, cy, cz));
          if (!set) continue;
          for (const entity of set) {
            if (insideBox(this.entries.get(entity)!, center, half)) out.push(entity);
          }
        }
      }
    }
    return out;
  }

  /** Every entity in the grid. */
  values(): IterableIterator<T> {
    return this.entries.keys();
  }

  private cellIndex(v: number, size: number): number {
    return size === Infinity ? 0 : clampCell(Math.floor(v / size));
  }

  private cellKey(x: number, y: number, z: number): number {
    const { cellSize } = this;
    return this.packKey(this.cellIndex(x, cellSize.x), this.cellIndex(y, cellSize.y), this.cellIndex(z, cellSize.z));
  }

  /** Three clamped cell indices packed into one exact integer (51 bits). */
  private packKey(cx: number, cy: number, cz: number): number {
    return ((cx + HALF_SPAN) * SPAN + (cy + HALF_SPAN)) * SPAN + (cz + HALF_SPAN);
  }

  private bucket(cell: number): Set<T> {
    let set = this.cells.get(cell);
    if (!set) {
      set = new Set();
      this.cells.set(cell, set);
    }
    return set;
  }

  private unbucket(cell: number, entity: T): void {
    const set = this.cells.get(cell);
    if (!set) return;
    set.delete(entity);
    if (set.size === 0) this.cells.delete(cell);
  }
}

/**
 * Cell size for an AoI box: one cell per half-extent (plus margin), so an AoI query spans
 * at most 3 cells per axis. A zero extent (a flat axis) collapses to one cell.
 */
export function cellSizeForAoi(aoi: Vec3, margin: number): Vec3 {
  const size = (h: number) => (h > 0 ? h + margin : Infinity);
  return { x: size(aoi.x), y: size(aoi.y), z: size(aoi.z) };
}
