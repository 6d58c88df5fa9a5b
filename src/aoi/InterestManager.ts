import { Interest, type ProximityDiff } from "./Interest";
import { RANGE_DEFAULT, checkVisibilityRange, rangeKind } from "./ranges";
import { SpatialGrid, cellSizeForAoi } from "./SpatialGrid";
import { growVec, type Vec3 } from "../shared/vector";

/** An observer's two interest sets: the players and the items it sees. */
export interface ObserverInterest<P, I> {
  readonly players: Interest<P>;
  readonly items: Interest<I>;
  /** When this observer's next staggered update is due (see `updateDue`); NaN until scheduled. */
  due: number;
  readonly slot: number;
}

type DiffHandler<P, I> = (observer: P, players: ProximityDiff<P>, items: ProximityDiff<I>) => void;

/**
 * The AoI of one world: where every player and item is, who observes, and what each
 * observer sees. Players are observers once they have a position; items are only observed.
 *
 * `update()` is the proximity update: it recomputes every observer's sets and hands each
 * diff to a callback (the room turns them into StateView add/remove). No networking import.
 *
 * An entity may have its own visibility range (`setPlayerRange`, `setItemRange`): observers
 * see it inside their box of that range instead of the AoI (see `ranges.ts` for the rule and
 * what it costs). Ranges are kept by entity, so one set before a player is placed applies
 * when it is; a removed entity's range is forgotten.
 */
export class InterestManager<P, I> {
  readonly players: SpatialGrid<P>;
  readonly items: SpatialGrid<I>;
  private readonly observers = new Map<P, ObserverInterest<P, I>>();
  private readonly leaveBox: Vec3;
  private nextSlot = 0;
  private readonly playerRanges = new Map<P, Vec3>();
  private readonly itemRanges = new Map<I, Vec3>();

  /** @param maxRangeFactor a visibility range may be at most this many times the AoI on each axis. */
  constructor(
    readonly aoi: Vec3,
    readonly leaveMargin: number,
    readonly maxRangeFactor = 8,
  ) {
    const cell = cellSizeForAoi(aoi, leaveMargin);
    this.players = new SpatialGrid<P>(cell);
    this.items = new SpatialGrid<I>(cell);
    this.leaveBox = growVec(aoi, leaveMargin);
  }

  /**
   * Places (or moves) a player; a player placed for the first time starts observing, unless
   * `observe` is false (a region's ghost of a neighbour's player: seen, never seeing).
   */
  placePlayer(player: P, p: Vec3, observe = true): void {
    this.players.insert(player, p);
    if (observe && !this.observers.has(player)) {
      this.observers.set(player, { players: new Interest<P>(), items: new Interest<I>(), due: Number.NaN, slot: this.nextSlot++ });
      const range = this.playerRanges.get(player);
      if (range) this.applyRange(this.players, player, range);
    }
  }

  placeItem(item: I, p: Vec3): void {
    // Without any item range this is the plain insert (no extra lookup per move).
    const fresh = this.itemRanges.size !== 0 && !this.items.has(item);
    this.items.insert(item, p);
    if (fresh) {
      const range = this.itemRanges.get(item);
      if (range) this.applyRange(this.items, item, range);
    }
  }

  /**
   * Gives a player its own visibility range (null: back to the AoI). Observers see the
   * change at their next update. @throws RangeError for a bad range (`checkVisibilityRange`).
   */
  setPlayerRange(player: P, range: Vec3 | null): void {
    this.setRange(this.players, this.playerRanges, player, range);
  }

  /** Like `setPlayerRange`, for an item. */
  setItemRange(item: I, range: Vec3 | null): void {
    this.setRange(this.items, this.itemRanges, item, range);
  }

  /** True while some entity has its own range: per-patch readers skip range lookups until then (O(1)). */
  get hasRanges(): boolean {
    return this.playerRanges.size + this.itemRanges.size > 0;
  }

  /** Like `playerRange`, without the copy (per-patch readers must not allocate): do not mutate it. */
  ownPlayerRange(player: P): Readonly<Vec3> | undefined {
    return this.playerRanges.get(player);
  }

  /** Like `itemRange`, without the copy: do not mutate it. */
  ownItemRange(item: I): Readonly<Vec3> | undefined {
    return this.itemRanges.get(item);
  }

  /** A player's own visibility range, or undefined (it is seen within the AoI). */
  playerRange(player: P): Vec3 | undefined {
    const r = this.playerRanges.get(player);
    return r && { ...r };
  }

  itemRange(item: I): Vec3 | undefined {
    const r = this.itemRanges.get(item);
    return r && { ...r };
  }

  private setRange<T>(grid: SpatialGrid<T>, ranges: Map<T, Vec3>, entity: T, range: Vec3 | null): void {
    if (range === null) {
      ranges.delete(entity);
      grid.setRange(entity, RANGE_DEFAULT);
      return;
    }
    const r = checkVisibilityRange(range, this.aoi, this.maxRangeFactor);
    ranges.set(entity, r);
    this.applyRange(grid, entity, r);
  }

  private applyRange<T>(grid: SpatialGrid<T>, entity: T, range: Vec3): void {
    grid.setRange(entity, rangeKind(range, this.aoi), range, growVec(range, this.leaveMargin));
  }

  /**
   * Removes a player from the world and as an observer. Observers that saw it drop it at
   * their next update, silently (its freed handle no longer matches): O(1) here.
   */
  removePlayer(player: P): void {
    this.observers.delete(player);
    this.players.remove(player);
    this.playerRanges.delete(player);
  }

  /** Stops a player observing (it stays seen where it is): a player handed to another region, now a ghost here. */
  stopObserving(player: P): void {
    this.observers.delete(player);
  }

  /** True while a player observes (placed, not a ghost). */
  isObserver(player: P): boolean {
    return this.observers.has(player);
  }

  /** Removes an item; like `removePlayer`, observers drop it silently. */
  removeItem(item: I): void {
    this.items.remove(item);
    this.itemRanges.delete(item);
  }

  interestOf(player: P): ObserverInterest<P, I> | undefined {
    return this.observers.get(player);
  }

  /**
   * Recomputes what every observer sees (or only `only`, e.g. a player just out of limbo);
   * `onDiff` gets each observer's changes.
   */
  update(onDiff: DiffHandler<P, I>, only?: P): void {
    if (only !== undefined) {
      const interest = this.observers.get(only);
      if (interest) this.updateObserver(only, interest, onDiff);
      return;
    }
    for (const [observer, interest] of this.observers) this.updateObserver(observer, interest, onDiff);
  }

  /**
   * A staggered update: recomputes the observers whose turn has come at time `now`, so that
   * each one is recomputed every `interval` while the work is spread evenly over the calls
   * (the room calls it once per patch). New observers are given evenly spread first turns.
   */
  updateDue(now: number, interval: number, onDiff: DiffHandler<P, I>): void {
    for (const [observer, interest] of this.observers) {
      if (Number.isNaN(interest.due)) {
        // Golden-ratio offsets spread the turns evenly, whatever the number of observers.
        interest.due = now + ((interest.slot * 0.6180339887) % 1) * interval;
      }
      if (interest.due > now) continue;
      interest.due = Math.max(interest.due + interval, now);
      this.updateObserver(observer, interest, onDiff);
    }
  }

  private updateObserver(observer: P, interest: ObserverInterest<P, I>, onDiff: DiffHandler<P, I>): void {
    const h = this.players.handleOf(observer);
    const { xs, ys, zs } = this.players;
    const center = { x: xs[h], y: ys[h], z: zs[h] };
    const players = interest.players.update(this.players, center, this.aoi, this.leaveBox, observer);
    const items = interest.items.update(this.items, center, this.aoi, this.leaveBox);
    if (players.entered.length || players.left.length || items.entered.length || items.left.length) {
      onDiff(observer, players, items);
    }
  }

  /** Players inside the box around `center` (default: the AoI). */
  playersNear(center: Vec3, half: Vec3 = this.aoi): P[] {
    return this.players.queryBox(center, half);
  }

  /** Items inside the box around `center` (default: the AoI). */
  itemsNear(center: Vec3, half: Vec3 = this.aoi): I[] {
    return this.items.queryBox(center, half);
  }
}
