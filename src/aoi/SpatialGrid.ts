import { RANGE_DEFAULT, RANGE_FAR, type RangeKind } from "./ranges";
import type { Vec3 } from "../shared/vector";


/**
 * A uniform grid over 3D space: insert, move, remove and exact box queries.
 *
 * Each entity gets a small integer handle; positions live in typed arrays and cells hold
 * handles, so a box query visits only the cells the box overlaps and tests plain numbers.
 * Its cost follows the entities near the box, not the world's size. An axis whose cell size
 * is `Infinity` (the z axis of a 2D world) has one cell. Generic over the entity type and
 * free of any networking import, so it can be tested and benchmarked alone.
 */
export class SpatialGrid<T> {
  private readonly handles = new Map<T, number>();
  /** Entity of each handle (undefined for a free handle). */
  readonly entities: (T | undefined)[] = [];
  xs = new Float64Array(64);
  ys = new Float64Array(64);
  zs = new Float64Array(64);
  private cellOf = new Float64Array(64);
  private slotInCell = new Int32Array(64);
  private readonly cells = new Map<number, number[]>();
  private readonly freeHandles: number[] = [];
  /** Scratch marks for `Interest.update` (one pass at a time). */
  visMark = new Int32Array(64);
  keepMark = new Int32Array(64);
  /** Bumped when a handle is freed, so holders of the old handle can tell. */
  gen = new Int32Array(64);
  /** Each handle's visibility-range class (`ranges.ts`): RANGE_DEFAULT unless `setRange` said otherwise. */
  rangeKind = new Uint8Array(64);
  /** Per handle, 6 numbers: the enter half-extents, then the leave half-extents (NEAR and FAR handles only). */
  rangeBox = new Float64Array(64 * 6);
  /** Handles of RANGE_FAR entities: observers test these one by one, not through the cells. */
  readonly farHandles: number[] = [];
  /** Handles whose class is not RANGE_DEFAULT: while 0, observers skip reading `rangeKind`. */
  rangedCount = 0;
  private epoch = 0;
  /**
   * Cell keys are small integers (V8 hashes those fast): the 30 bits are shared among the
   * axes that are not collapsed (15 each in 2D, 10 each in 3D). Cell indices are clamped to
   * that range; beyond it entities share the edge cells, which stays correct, only slower.
   */
  private readonly bits: [number, number, number];

  /** @param cellSize edge length of a cell on each axis (> 0; `Infinity` collapses the axis). */
  constructor(readonly cellSize: Vec3) {
    for (const axis of ["x", "y", "z"] as const) {
      if (!(cellSize[axis] > 0)) throw new RangeError(`cell size on ${axis} must be > 0, got ${cellSize[axis]}`);
    }
    const axes = [cellSize.x, cellSize.y, cellSize.z].filter((c) => c !== Infinity).length;
    const per = axes === 0 ? 0 : Math.floor(30 / axes);
    this.bits = [cellSize.x === Infinity ? 0 : per, cellSize.y === Infinity ? 0 : per, cellSize.z === Infinity ? 0 : per];
  }

  get size(): number {
    return this.handles.size;
  }

  has(entity: T): boolean {
    return this.handles.has(entity);
  }

  /** The handle of an entity in the grid, or -1. */
  handleOf(entity: T): number {
    return this.handles.get(entity) ?? -1;
  }

  /** A copy of the position the grid holds for `entity`, or undefined. */
  position(entity: T): Vec3 | undefined {
    const h = this.handles.get(entity);
    return h === undefined ? undefined : { x: this.xs[h], y: this.ys[h], z: this.zs[h] };
  }

  /** Adds `entity` at `p`, or moves it there if it is already in the grid. */
  insert(entity: T, p: Vec3): void {
    if (this.move(entity, p)) return;
    const h = this.freeHandles.pop() ?? this.entities.length;
    if (h === this.entities.length) this.entities.push(entity);
    else this.entities[h] = entity;
    this.ensureCapacity(h + 1);
    this.handles.set(entity, h);
    this.xs[h] = p.x;
    this.ys[h] = p.y;
    this.zs[h] = p.z;
    this.visMark[h] = 0;
    this.keepMark[h] = 0;
    this.rangeKind[h] = RANGE_DEFAULT;
    this.addToCell(h, this.cellKey(p.x, p.y, p.z));
  }

  /** Moves an entity already in the grid; returns false if it is not there. */
  move(entity: T, p: Vec3): boolean {
    const h = this.handles.get(entity);
    if (h === undefined) return false;
    this.xs[h] = p.x;
    this.ys[h] = p.y;
    this.zs[h] = p.z;
    const cell = this.cellKey(p.x, p.y, p.z);
    if (cell !== this.cellOf[h]) {
      this.removeFromCell(h);
      this.addToCell(h, cell);
    }
    return true;
  }

  remove(entity: T): boolean {
    const h = this.handles.get(entity);
    if (h === undefined) return false;
    this.removeFromCell(h);
    if (this.rangeKind[h] === RANGE_FAR) this.dropFar(h);
    if (this.rangeKind[h] !== RANGE_DEFAULT) this.rangedCount--;
    this.rangeKind[h] = RANGE_DEFAULT;
    this.handles.delete(entity);
    this.entities[h] = undefined;
    this.gen[h]++;
    this.freeHandles.push(h);
    return true;
  }

  /**
   * Sets how observers test an entity already in the grid (InterestManager decides the
   * class): `enter` and `leave` are its own half-extents (ignored for RANGE_DEFAULT).
   * Returns false if the entity is not in the grid. O(1), or O(far entities) into or out of FAR.
   */
  setRange(entity: T, kind: RangeKind, enter?: Vec3, leave?: Vec3): boolean {
    const h = this.handles.get(entity);
    if (h === undefined) return false;
    const was = this.rangeKind[h];
    if (was === RANGE_FAR && kind !== RANGE_FAR) this.dropFar(h);
    if (kind === RANGE_FAR && was !== RANGE_FAR) this.farHandles.push(h);
    this.rangedCount += (kind !== RANGE_DEFAULT ? 1 : 0) - (was !== RANGE_DEFAULT ? 1 : 0);
    this.rangeKind[h] = kind;
    if (kind !== RANGE_DEFAULT && enter && leave) this.rangeBox.set([enter.x, enter.y, enter.z, leave.x, leave.y, leave.z], h * 6);
    return true;
  }

  /** Entities inside the box centred on `center` with half-extents `half`, borders included. */
  queryBox(center: Vec3, half: Vec3, out: T[] = []): T[] {
    this.forEachInBox(center, half, (h) => out.push(this.entities[h]!));
    return out;
  }

  /** Calls `visit` with the handle of every entity inside the box (borders included). */
  forEachInBox(center: Vec3, half: Vec3, visit: (handle: number) => void): void {
    this.forEachCandidate(center, half, (h) => {
      if (
        Math.abs(this.xs[h] - center.x) <= half.x &&
        Math.abs(this.ys[h] - center.y) <= half.y &&
        Math.abs(this.zs[h] - center.z) <= half.z
      ) {
        visit(h);
      }
    });
  }

  /** Calls `visit` with every handle in the cells the box overlaps (a superset of the box). */
  forEachCandidate(center: Vec3, half: Vec3, visit: (handle: number) => void): void {
    const cells = this.cellsInBox(center, half, []);
    for (const cell of cells) for (let i = 0; i < cell.length; i++) visit(cell[i]);
  }

  /** Appends to `out` the (live) handle arrays of the non-empty cells the box overlaps. */
  cellsInBox(center: Vec3, half: Vec3, out: number[][]): number[][] {
    const { cellSize, bits } = this;
    const x0 = this.cellIndex(center.x - half.x, cellSize.x, bits[0]);
    const x1 = this.cellIndex(center.x + half.x, cellSize.x, bits[0]);
    const y0 = this.cellIndex(center.y - half.y, cellSize.y, bits[1]);
    const y1 = this.cellIndex(center.y + half.y, cellSize.y, bits[1]);
    const z0 = this.cellIndex(center.z - half.z, cellSize.z, bits[2]);
    const z1 = this.cellIndex(center.z + half.z, cellSize.z, bits[2]);
    const sy = 1 << bits[1];
    const sz = 1 << bits[2];
    for (let cx = x0; cx <= x1; cx++) {
      for (let cy = y0; cy <= y1; cy++) {
        for (let cz = z0; cz <= z1; cz++) {
          const cell = this.cells.get((cx * sy + cy) * sz + cz);
          if (cell !== undefined) out.push(cell);
        }
      }
    }
    return out;
  }

  /** Every entity in the grid. */
  values(): IterableIterator<T> {
    return this.handles.keys();
  }

  /** A fresh mark value for one `Interest.update` pass. */
  nextEpoch(): number {
    if (this.epoch >= 0x7fffffff) {
      this.epoch = 0;
      this.visMark.fill(0);
      this.keepMark.fill(0);
    }
    return ++this.epoch;
  }

  private dropFar(h: number): void {
    const far = this.farHandles;
    const i = far.indexOf(h);
    far[i] = far[far.length - 1];
    far.pop();
  }

  /** The cell index of `v` on one axis, offset to be >= 0 and clamped to `bits` bits. */
  private cellIndex(v: number, size: number, bits: number): number {
    if (bits === 0) return 0;
    const half = 1 << (bits - 1);
    const c = Math.floor(v / size) + half;
    return c < 0 ? 0 : c >= 2 * half ? 2 * half - 1 : c;
  }

  private cellKey(x: number, y: number, z: number): number {
    const { cellSize, bits } = this;
    const cx = this.cellIndex(x, cellSize.x, bits[0]);
    const cy = this.cellIndex(y, cellSize.y, bits[1]);
    const cz = this.cellIndex(z, cellSize.z, bits[2]);
    return (cx * (1 << bits[1]) + cy) * (1 << bits[2]) + cz;
  }

  private addToCell(h: number, key: number): void {
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = [];
      this.cells.set(key, cell);
    }
    this.cellOf[h] = key;
    this.slotInCell[h] = cell.length;
    cell.push(h);
  }

  /** Swap-remove from the handle's cell: O(1). */
  private removeFromCell(h: number): void {
    const key = this.cellOf[h];
    const cell = this.cells.get(key)!;
    const slot = this.slotInCell[h];
    const last = cell.pop()!;
    if (last !== h) {
      cell[slot] = last;
      this.slotInCell[last] = slot;
    }
    if (cell.length === 0) this.cells.delete(key);
  }

  private ensureCapacity(n: number): void {
    if (n <= this.xs.length) return;
    const size = Math.max(n, this.xs.length * 2);
    const grow = <A extends Float64Array | Int32Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(size);
      b.set(a);
      return b;
    };
    this.xs = grow(this.xs);
    this.ys = grow(this.ys);
    this.zs = grow(this.zs);
    this.cellOf = grow(this.cellOf);
    this.slotInCell = grow(this.slotInCell);
    this.visMark = grow(this.visMark);
    this.keepMark = grow(this.keepMark);
    this.gen = grow(this.gen);
    const kinds = new Uint8Array(size);
    kinds.set(this.rangeKind);
    this.rangeKind = kinds;
    const boxes = new Float64Array(size * 6);
    boxes.set(this.rangeBox);
    this.rangeBox = boxes;
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
