import { Interest, type ProximityDiff } from "./Interest";
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
 */
export class InterestManager<P, I> {
  readonly players: SpatialGrid<P>;
  readonly items: SpatialGrid<I>;
  private readonly observers = new Map<P, ObserverInterest<P, I>>();
  private readonly leaveBox: Vec3;
  private nextSlot = 0;

  constructor(
    readonly aoi: Vec3,
    readonly leaveMargin: number,
  ) {
    const cell = cellSizeForAoi(aoi, leaveMargin);
    this.players = new SpatialGrid<P>(cell);
    this.items = new SpatialGrid<I>(cell);
    this.leaveBox = growVec(aoi, leaveMargin);
  }

  /** Places (or moves) a player; a player placed for the first time starts observing. */
  placePlayer(player: P, p: Vec3): void {
    this.players.insert(player, p);
    if (!this.observers.has(player)) {
      this.observers.set(player, { players: new Interest<P>(), items: new Interest<I>(), due: Number.NaN, slot: this.nextSlot++ });
    }
  }

  placeItem(item: I, p: Vec3): void {
    this.items.insert(item, p);
  }

  /**
   * Removes a player from the world and as an observer. Observers that saw it drop it at
   * their next update, silently (its freed handle no longer matches): O(1) here.
   */
  removePlayer(player: P): void {
    this.observers.delete(player);
    this.players.remove(player);
  }

  /** Removes an item; like `removePlayer`, observers drop it silently. */
  removeItem(item: I): void {
    this.items.remove(item);
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
