import { InterestManager, type ProximityDiff } from "../aoi";
import type { VarChanges, VarValue } from "../shared/protocol";
import { Item, MMOState, Player, Vars, Vec3State } from "../shared/schema";
import { checkVarValue, writeVar } from "../shared/vars";
import { type Position, type Vec3, insideBounds } from "../shared/vector";
import type { MMOSettings } from "./settings";

/** Variables as game code sets them: a typed value (bool, number, string, object/array) sets, null deletes. */
export type PublicVars = VarChanges;

/** The entities of one world (a player or an item). */
export type Entity = Player | Item;

/**
 * The entities of one world and where they are: the schema state (what clients receive)
 * and the AoI index (what each observer sees), kept in step by one method, `place`. Also
 * the items' hidden variables, the map limits and free-spot search. No Colyseus import
 * beyond the schema classes: a World can be built and tested without a room.
 */
export class World {
  /** The AoI index: positions of players and items, and what each observer sees. */
  readonly aoi: InterestManager<Player, Item>;
  private readonly hidden = new Map<string, Map<string, unknown>>();
  /** The next item id is `i${nextItemId}` (kept in snapshots so ids are never reused). */
  nextItemId = 1;
  /** Put before item ids, so ids stay world-global when a world is split into regions ("1_0." in region 1_0). */
  itemIdPrefix = "";
  /** Where `findFreePosition` looks (a region's own bounds when the world is split; the map otherwise). */
  spawnArea?: { lower: Vec3; higher: Vec3 };
  /** True once a player took a position here (a world nobody entered is not worth saving). */
  entered = false;

  constructor(
    readonly state: MMOState,
    private readonly settings: Pick<MMOSettings, "aoi" | "aoiLeaveMargin" | "mapLimits" | "maxVisibilityRange">,
  ) {
    this.aoi = new InterestManager<Player, Item>(settings.aoi, settings.aoiLeaveMargin, settings.maxVisibilityRange);
  }

  /** A new world state: empty collections, and the settings clients need (AoI, map, speed). */
  static createState(s: Pick<MMOSettings, "aoi" | "mapLimits" | "speed" | "patchRate">): MMOState {
    const state = new MMOState().assign({ speed: s.speed, patchRate: s.patchRate });
    state.aoi = Vec3State.of(s.aoi);
    state.lowerMapLimit = Vec3State.of(s.mapLimits.lower);
    state.higherMapLimit = Vec3State.of(s.mapLimits.higher);
    return state;
  }

  /**
   * Puts an entity at `pos`: the one place a position is written, in the schema (clients
   * get it with the next patch) and in the AoI index (observers see it at their next
   * proximity update). A player placed for the first time starts observing.
   */
  place(entity: Entity, pos: Vec3): void {
    entity.x = pos.x;
    entity.y = pos.y;
    entity.z = pos.z;
    if (entity instanceof Player) {
      this.entered = true;
      this.aoi.placePlayer(entity, pos);
    }
    else this.aoi.placeItem(entity, pos);
  }

  /**
   * Puts a ghost (a read-only mirror of a neighbouring region's entity, src/regions/Ghosts.ts)
   * at `pos`: in the state and seen by observers like any entity, but a ghost player observes
   * nothing, and a ghost is in no snapshot and has no hidden variables.
   */
  placeGhost(entity: Entity, pos: Vec3): void {
    entity.x = pos.x;
    entity.y = pos.y;
    entity.z = pos.z;
    if (entity instanceof Player) this.aoi.placePlayer(entity, pos, false);
    else this.aoi.placeItem(entity, pos);
  }

  /** Adds a ghost to the state (unplaced until `placeGhost`). */
  addGhost(entity: Entity): void {
    if (entity instanceof Player) this.state.players.set(entity.id, entity);
    else this.state.items.set(entity.id, entity);
  }

  /** Removes a ghost from the state and the AoI index. */
  removeGhost(entity: Entity): void {
    if (entity instanceof Player) {
      this.aoi.removePlayer(entity);
      if (this.state.players.get(entity.id) === entity) this.state.players.delete(entity.id);
    } else {
      this.aoi.removeItem(entity);
      if (this.state.items.get(entity.id) === entity) this.state.items.delete(entity.id);
    }
  }

  /**
   * A player of this region becomes a ghost of `region`'s (handed over): it stays in the state
   * and in its observers' views, stops observing, and loses its private variables here.
   */
  demoteToGhost(player: Player): void {
    this.aoi.stopObserving(player);
    this.state.privateVars.delete(player.id);
  }

  /** A ghost player becomes this region's own (handed over from a neighbour): it observes from now on. */
  promoteGhost(player: Player, pos: Vec3): void {
    if (!this.state.privateVars.has(player.id)) this.state.privateVars.set(player.id, new Vars());
    this.place(player, pos);
  }

  /** Adds a player to the state, unplaced: in no view until `place` (SmartFoxServer's limbo). */
  addPlayer(player: Player): void {
    this.state.players.set(player.id, player);
    this.state.privateVars.set(player.id, new Vars());
  }

  removePlayer(player: Player): void {
    this.aoi.removePlayer(player);
    this.state.players.delete(player.id);
    this.state.privateVars.delete(player.id);
  }

  /** A player's private variables (in `state.privateVars`, which only its owner's view holds). */
  privateVarsOf(player: Player): Vars {
    const vars = this.state.privateVars.get(player.id);
    if (!vars) throw new Error(`no player ${player.id}`);
    return vars;
  }

  /** Adds an item at `pos` with its public and hidden (server-only) variables. */
  addItem(kind: string, pos: Position, publicVars: PublicVars = {}, hiddenVars: Record<string, unknown> = {}, id?: string): Item {
    const p = this.checkedPosition(pos);
    const item = new Item().assign({ id: id ?? `${this.itemIdPrefix}i${this.nextItemId++}`, kind });
    applyVars(item.vars, publicVars);
    this.hidden.set(item.id, new Map(Object.entries(hiddenVars)));
    this.state.items.set(item.id, item);
    this.place(item, p);
    return item;
  }

  /** Removes an item; observers that saw it drop it at their next update. */
  removeItem(item: Item | string): boolean {
    const it = typeof item === "string" ? this.state.items.get(item) : item;
    if (!it || this.state.items.get(it.id) !== it || !this.hidden.has(it.id)) return false;
    this.aoi.removeItem(it);
    this.state.items.delete(it.id);
    this.hidden.delete(it.id);
    return true;
  }

  /**
   * A neighbouring region's item becomes this world's own (it was handed over, with its hidden
   * variables): the ghost instance stays in the state, so observers see it go on. O(1).
   */
  adoptItem(item: Item, hiddenVars: Record<string, unknown>): void {
    this.hidden.set(item.id, new Map(Object.entries(hiddenVars)));
  }

  /**
   * This world's item goes to a neighbouring region (handed over): it stays in the state and in
   * the AoI index, read-only here, as that region's ghost. O(1).
   */
  disownItem(item: Item): void {
    this.hidden.delete(item.id);
  }

  /** True for this world's own item (false for a neighbouring region's ghost, which is read-only here). */
  ownsItem(item: Item): boolean {
    return this.hidden.has(item.id);
  }

  /** An item of this world, by id or instance; throws when there is none. */
  requireItem(item: Item | string): Item {
    const it = typeof item === "string" ? this.state.items.get(item) : item;
    if (!it || !this.hidden.has(it.id)) throw new Error(`no item ${typeof item === "string" ? item : item.id}`);
    return it;
  }

  /** An item's server-only variables (never in the state). */
  hiddenVars(item: Item | string): Map<string, unknown> {
    return this.hidden.get(this.requireItem(item).id)!;
  }

  /** Sets (a value) or deletes (undefined) an item's server-only variables. */
  setHiddenVars(item: Item | string, vars: Record<string, unknown>): void {
    const hidden = this.hiddenVars(item);
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) hidden.delete(k);
      else hidden.set(k, v);
    }
  }

  /** Where the AoI index holds a player (undefined while it is in limbo). */
  positionOf(player: Player): Vec3 | undefined {
    return this.aoi.players.position(player);
  }

  /** True when `pos` is inside the map limits. */
  isInsideMap(pos: Vec3): boolean {
    return insideBounds(pos, this.settings.mapLimits.lower, this.settings.mapLimits.higher);
  }

  /** `pos` with z defaulted, checked. @throws RangeError if not finite or outside the map. */
  checkedPosition(pos: Position): Vec3 {
    const p = { x: pos.x, y: pos.y, z: pos.z ?? 0 };
    if (![p.x, p.y, p.z].every(Number.isFinite)) throw new RangeError("position must be finite numbers");
    if (!this.isInsideMap(p)) throw new RangeError(`position ${p.x},${p.y},${p.z} is outside the map limits`);
    return p;
  }

  /**
   * A random position inside the map limits with no player or item within `clearance`
   * (the best of `attempts` tries if the map is crowded). Costs `attempts` grid queries.
   */
  findFreePosition(clearance = 32, attempts = 32): Vec3 {
    const { lower, higher } = this.spawnArea ?? this.settings.mapLimits;
    const box = { x: clearance, y: clearance, z: clearance };
    let best: Vec3 = lower;
    let bestCrowd = Infinity;
    for (let i = 0; i < attempts; i++) {
      const p = {
        x: lower.x + Math.random() * (higher.x - lower.x),
        y: lower.y + Math.random() * (higher.y - lower.y),
        z: lower.z + Math.random() * (higher.z - lower.z),
      };
      const crowd = this.aoi.playersNear(p, box).length + this.aoi.itemsNear(p, box).length;
      if (crowd === 0) return p;
      if (crowd < bestCrowd) {
        best = p;
        bestCrowd = crowd;
      }
    }
    return best;
  }
}

/**
 * Sets (a typed value) or deletes (null) variables. All or nothing: a value that is no
 * variable value (NaN, Infinity, undefined, a function, a class instance, a cycle...) throws a
 * TypeError naming it, before anything changes. Sizes are not bounded here (the server's
 * own writes); client messages are checked against VAR_LIMITS before they get here.
 */
export function applyVars(target: Vars, vars: PublicVars): void {
  const unbounded = { maxValueLength: Infinity, maxJsonBytes: Infinity, maxJsonDepth: 64 };
  for (const [k, v] of Object.entries(vars)) {
    const problem = v === null ? undefined : checkVarValue(v, unbounded);
    if (problem) throw new TypeError(`variable ${JSON.stringify(k)}: ${problem}`);
  }
  for (const [k, v] of Object.entries(vars)) writeVar(target, k, v as VarValue | null);
}

/** A StateView's side of an observer's proximity diff (what the room and the benchmark apply). */
export interface ViewLike {
  add(entity: Entity): unknown;
  remove(entity: Entity): unknown;
}

/**
 * Turns one observer's proximity diff into StateView removes and adds (removes first, so an
 * entity that left and came back in one update is re-sent whole).
 */
export function applyProximityDiff(view: ViewLike, players: ProximityDiff<Player>, items: ProximityDiff<Item>): void {
  for (const p of players.left) view.remove(p);
  for (const i of items.left) view.remove(i);
  for (const p of players.entered) view.add(p);
  for (const i of items.entered) view.add(i);
}
