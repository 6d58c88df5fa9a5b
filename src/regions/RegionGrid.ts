import type { Vec3 } from "../shared/vector";
import { REGION_NAME } from "../shared/wire";

/** A region's name: "" for the entry region (cell 0,0, where joins without a region land), "cx_cy" for the others. */
export type RegionName = string;

export interface RegionBounds {
  readonly lower: Vec3;
  readonly higher: Vec3;
}

/**
 * A world's partition into a grid of regions, on x and y (z is never split): which region
 * owns a position, a region's bounds, and which regions lie within a margin of a position.
 * Pure arithmetic, no Colyseus import; every method is O(1) apart from the margin query,
 * which is O(regions touched) (at most 4 when the margin is under half a region).
 *
 * The entry region (cell 0,0) is named "" so a world that is one region (`regionSize` 0)
 * keeps today's single room and its protocol: `joinOrCreate("mmo", { world })`.
 */
export class RegionGrid {
  /** Columns and rows of regions. */
  readonly cols: number;
  readonly rows: number;
  private readonly size: { x: number; y: number };

  /**
   * @param map the world's map limits
   * @param regionSize width and height of a region in world units; 0 (or >= the map) on an
   * axis: that axis is not split. A region larger than the map is the whole map.
   */
  constructor(
    readonly map: RegionBounds,
    regionSize: { x: number; y: number },
  ) {
    const w = map.higher.x - map.lower.x;
    const h = map.higher.y - map.lower.y;
    const sx = regionSize.x > 0 && regionSize.x < w ? regionSize.x : Math.max(w, 1);
    const sy = regionSize.y > 0 && regionSize.y < h ? regionSize.y : Math.max(h, 1);
    this.size = { x: sx, y: sy };
    this.cols = Math.max(1, Math.ceil(w / sx));
    this.rows = Math.max(1, Math.ceil(h / sy));
  }

  /** True when the world is one region (today's single room). */
  get single(): boolean {
    return this.cols * this.rows === 1;
  }

  /** Every region's name, entry region first. */
  names(): RegionName[] {
    const out: RegionName[] = [];
    for (let cy = 0; cy < this.rows; cy++) for (let cx = 0; cx < this.cols; cx++) out.push(nameOf(cx, cy));
    return out;
  }

  /** True when `name` is a region of this grid. */
  has(name: string): boolean {
    const cell = cellOf(name);
    return cell !== undefined && cell.cx < this.cols && cell.cy < this.rows;
  }

  /** The region owning `pos` (positions on the map's far edge belong to the last region). */
  regionAt(pos: Vec3): RegionName {
    return nameOf(this.col(pos.x), this.row(pos.y));
  }

  /** A region's bounds (z spans the whole map). @throws Error for a name not in the grid. */
  bounds(name: RegionName): RegionBounds {
    const cell = this.cellOrThrow(name);
    const { lower, higher } = this.map;
    return {
      lower: { x: lower.x + cell.cx * this.size.x, y: lower.y + cell.cy * this.size.y, z: lower.z },
      higher: { x: Math.min(higher.x, lower.x + (cell.cx + 1) * this.size.x), y: Math.min(higher.y, lower.y + (cell.cy + 1) * this.size.y), z: higher.z },
    };
  }

  /**
   * Which region should own an entity at `pos` that `current` owns now, with hysteresis: it
   * stays with `current` while within `hysteresis` units outside its bounds, so walking along
   * a border never flaps between two regions.
   */
  ownerWithHysteresis(current: RegionName, pos: Vec3, hysteresis: number): RegionName {
    const b = this.bounds(current);
    const inside =
      pos.x >= b.lower.x - hysteresis && pos.x <= b.higher.x + hysteresis && pos.y >= b.lower.y - hysteresis && pos.y <= b.higher.y + hysteresis;
    return inside ? current : this.regionAt(pos);
  }

  /**
   * Calls `visit` with every region other than `own` whose bounds grown by `margin` hold `pos`:
   * the neighbours that must mirror (ghost) an entity at `pos`. No allocation.
   */
  forNeighboursWithin(own: RegionName, pos: Vec3, margin: number, visit: (region: RegionName) => void): void {
    const c0 = this.col(pos.x - margin);
    const c1 = this.col(pos.x + margin);
    const r0 = this.row(pos.y - margin);
    const r1 = this.row(pos.y + margin);
    if (c0 === c1 && r0 === r1) {
      const only = nameOf(c0, r0);
      if (only !== own) visit(only);
      return;
    }
    for (let cy = r0; cy <= r1; cy++) {
      for (let cx = c0; cx <= c1; cx++) {
        const name = nameOf(cx, cy);
        if (name !== own) visit(name);
      }
    }
  }

  /** True when `other` is one of `name`'s neighbours, spelled as the grid spells it. */
  isNeighbour(name: RegionName, other: string): boolean {
    const a = cellOf(name);
    const b = cellOf(other);
    if (!a || !b || b.cx >= this.cols || b.cy >= this.rows) return false;
    const dx = Math.abs(a.cx - b.cx);
    const dy = Math.abs(a.cy - b.cy);
    return dx <= 1 && dy <= 1 && dx + dy > 0;
  }

  /** The regions that share a border or a corner with `name`. */
  neighbours(name: RegionName): RegionName[] {
    const { cx, cy } = this.cellOrThrow(name);
    const out: RegionName[] = [];
    for (let y = Math.max(0, cy - 1); y <= Math.min(this.rows - 1, cy + 1); y++) {
      for (let x = Math.max(0, cx - 1); x <= Math.min(this.cols - 1, cx + 1); x++) if (x !== cx || y !== cy) out.push(nameOf(x, y));
    }
    return out;
  }

  private col(x: number): number {
    return clamp(Math.floor((x - this.map.lower.x) / this.size.x), 0, this.cols - 1);
  }

  private row(y: number): number {
    return clamp(Math.floor((y - this.map.lower.y) / this.size.y), 0, this.rows - 1);
  }

  private cellOrThrow(name: RegionName): { cx: number; cy: number } {
    const cell = cellOf(name);
    if (!cell || cell.cx >= this.cols || cell.cy >= this.rows) throw new Error(`no region "${name}" in a ${this.cols}x${this.rows} grid`);
    return cell;
  }
}

/** Names are cached per cell: regionAt runs per entity per patch and must not build strings. */
const names: string[][] = [];

function nameOf(cx: number, cy: number): RegionName {
  const row = (names[cy] ??= []);
  return (row[cx] ??= cx === 0 && cy === 0 ? "" : `${cx}_${cy}`);
}

/** The cell a region's name stands for; undefined for any other spelling ("01_0", "0_0": one name per cell). */
function cellOf(name: string): { cx: number; cy: number } | undefined {
  if (name === "") return { cx: 0, cy: 0 };
  if (!REGION_NAME.test(name)) return undefined;
  const [cx, cy] = name.split("_").map(Number);
  return cx === 0 && cy === 0 ? undefined : { cx, cy };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
