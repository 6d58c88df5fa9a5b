import { Item, Player } from "../shared/schema";
import { readVars, writeVar } from "../shared/vars";
import type { VarValue } from "../shared/wire";
import type { Vec3 } from "../shared/vector";
import type { World } from "../framework/World";
import type { RegionGrid, RegionName } from "./RegionGrid";

/**
 * One mirrored entity, as a tuple (JSON arrays cost a third of the bytes of objects):
 * id, x, y, z, the player's name or the item's kind, its public variables, sent only
 * when they changed since the last batch to that region (null: unchanged), and its own
 * visibility range (`setVisibilityRange`) when it has one (absent: the AoI).
 */
export type GhostRow = [
  id: string,
  x: number,
  y: number,
  z: number,
  label: string,
  vars: Record<string, VarValue> | null,
  range?: [x: number, y: number, z: number],
];

/**
 * An item on its way to the region it moved into: everything that region needs to own it
 * (id, place, kind, public and hidden variables, its own visibility range if any).
 */
export type ItemHandoffRow = [
  id: string,
  x: number,
  y: number,
  z: number,
  kind: string,
  vars: Record<string, VarValue>,
  hidden: Record<string, unknown>,
  range?: [x: number, y: number, z: number],
];

/** A message for the users of another region inside a box (AoI-scoped chat across a border). */
export interface ProximityEvent {
  center: Vec3;
  half: Vec3;
  type: string;
  message: unknown;
}

/**
 * What a region sends a neighbour once per patch: its own players and items within the ghost
 * margin of that neighbour (all of them, so one missing means gone), and proximity messages
 * whose box reaches into it.
 */
export interface GhostBatch {
  from: RegionName;
  players: GhostRow[];
  items: GhostRow[];
  events: ProximityEvent[];
  /**
   * Players this region handed to another lately, `[id, region]`: a third region that mirrors
   * one keeps it (now that region's) rather than dropping it because this batch lacks it and
   * re-creating it from the new owner's batch (a blink for its clients).
   */
  moved?: [id: string, to: RegionName][];
  /**
   * Own items that moved into the receiver's region (past the hysteresis): offered in every
   * batch until the receiver says it took them, so an offer to a dead region is never lost.
   */
  handing?: ItemHandoffRow[];
  /** Items the sender took from the receiver's offers (the receiver lets them go: its ghosts now). */
  took?: string[];
}

/**
 * How far beyond a border an entity is mirrored: the AoI plus its leave margin (what a
 * border observer sees in one room), plus the handoff hysteresis, since a player stays its
 * region's own up to that far past the border and its AoI reaches that much farther.
 * An entity with its own visibility range is mirrored as far as that range instead of the AoI.
 */
export function ghostMargin(s: { aoi: { x: number; y: number }; aoiLeaveMargin: number; handoffHysteresis: number }): number {
  return Math.max(s.aoi.x, s.aoi.y) + s.aoiLeaveMargin + s.handoffHysteresis;
}

/** A handed-over player is named in this region's batches (`moved`) for this long. */
const MOVED_MS = 1000;

interface Ghost {
  entity: Player | Item;
  from: RegionName;
  /** When the last batch holding it arrived (room clock ms). */
  seen: number;
  /** The visibility range last applied ("x,y,z"), undefined: the AoI. */
  range?: string;
  /**
   * Set when a batch from its region no longer holds it: it is removed at the next `flush`
   * (right before the patch), unless a batch brings it back first. A ghost is never deleted
   * from the state and set again within one patch (a client would keep the old copy).
   */
  dropping?: boolean;
}

/**
 * Border ghosts between regions of one world, in process: `collect` builds the batches a
 * region sends its neighbours (once per patch, not per entity), `apply` mirrors a neighbour's
 * batch into this region's World as read-only entities with the same world-global ids, so a
 * client near a border sees across it as it would in one room, and sees one entity, not two.
 *
 * Costs per patch: collect is O(own entities) position tests plus O(border entities) rows;
 * a row's variables are serialised (JSON) only to compare, once per border entity. No
 * transport here (MMORoom publishes the batches through presence); the oracle test and the
 * benchmark drive it directly.
 */
export class Ghosts {
  private readonly ghosts = new Map<string, Ghost>();
  /** Per target region: the variables' JSON last sent, by entity id. */
  private readonly sentVars = new Map<RegionName, Map<string, string>>();
  /** Targets that got rows last patch (they get a batch, maybe empty, this patch too). */
  private lastTargets = new Set<RegionName>();
  private readonly pendingEvents: ProximityEvent[] = [];
  /** Players this region handed over lately: id -> [to, when] (sent as `moved`). */
  private readonly moved = new Map<string, [RegionName, number]>();
  /** The room clock as of the last `collect`/`apply` (for `moved`'s expiry). */
  private now = 0;
  /** Own items offered to the region they moved into, until it takes them: id -> that region. */
  private readonly handing = new Map<string, RegionName>();
  /** Per region: the ids of the items taken from its offers, to tell it in the next batch. */
  private readonly took = new Map<RegionName, string[]>();
  /** Items handed over since the last `takeItemMoves` (the room tells its game). */
  private itemMoves: { arrived: [Item, RegionName][]; departed: [Item, RegionName][] } = { arrived: [], departed: [] };

  /**
   * @param margin how far beyond a border an entity is mirrored: the AoI plus its leave margin,
   * so a neighbour's observer at the border sees exactly what one room would show it.
   */
  /** This region's bounds shrunk by the margin: an entity inside is near no border (one test, no neighbour lookup). */
  private readonly interior: { lx: number; ly: number; hx: number; hy: number };
  /** The entity and batch list `visitTarget` works on (fields, not a closure per entity: collect runs over every own entity every patch). */
  private visiting?: { entity: Player | Item; label: string; isPlayer: boolean; range?: Readonly<Vec3>; json?: string };
  /** The margin beyond the AoI (leave margin + hysteresis): an entity with its own range is mirrored that far past it. */
  private readonly beyondAoi: number;
  /** The room's AoI on x and y: a range larger than it on either reaches past the interior. */
  private readonly aoiXY: { x: number; y: number };
  private collecting?: Map<RegionName, GhostBatch>;
  private readonly visitTarget = (target: RegionName): void => this.addRow(target);

  /**
   * @param hysteresis how far past its border an own item stays this region's (as a player
   * does): beyond it, it is handed to the region it moved into.
   */
  constructor(
    private readonly world: World,
    private readonly grid: RegionGrid,
    readonly region: RegionName,
    readonly margin: number,
    private readonly hysteresis = 0,
  ) {
    const b = grid.bounds(region);
    const { lower, higher } = grid.map;
    this.aoiXY = { x: world.aoi.aoi.x, y: world.aoi.aoi.y };
    this.beyondAoi = margin - Math.max(this.aoiXY.x, this.aoiXY.y);
    // A side on the map's edge has no neighbour: entities there are interior on that side.
    this.interior = {
      lx: b.lower.x <= lower.x ? -Infinity : b.lower.x + margin,
      ly: b.lower.y <= lower.y ? -Infinity : b.lower.y + margin,
      hx: b.higher.x >= higher.x ? Infinity : b.higher.x - margin,
      hy: b.higher.y >= higher.y ? Infinity : b.higher.y - margin,
    };
  }

  /** True when `id` is a ghost here (not this region's own). */
  isGhost(id: string): boolean {
    return this.ghosts.has(id);
  }

  /** True while an own item is offered to the region it moved into (both own it until that one says it took it). */
  isOffered(id: string): boolean {
    return this.handing.has(id);
  }

  /** How many ghosts this region holds (metrics, tests). */
  get size(): number {
    return this.ghosts.size;
  }

  /** The ghost with this id, if any. */
  ghost(id: string): Player | Item | undefined {
    return this.ghosts.get(id)?.entity;
  }

  /** Queues a proximity message for the neighbours its box reaches (sent with the next batches). */
  forwardProximity(center: Vec3, half: Vec3, type: string, message: unknown): void {
    this.pendingEvents.push({ center: { x: center.x, y: center.y, z: center.z }, half: { x: half.x, y: half.y, z: half.z }, type, message });
  }

  /**
   * The batches for this patch, by target region: every own, placed entity within `margin` of a
   * neighbour. A target that got rows last patch gets a batch this patch even when empty, so its
   * ghosts go away at once rather than by expiry.
   */
  collect(now = this.now): Map<RegionName, GhostBatch> {
    this.now = now;
    const out = new Map<RegionName, GhostBatch>();
    this.collecting = out;
    const batchFor = (target: RegionName): GhostBatch => this.batchIn(out, target);
    const { aoi } = this.world;
    const { lx, ly, hx, hy } = this.interior;
    // While no entity has its own range, none is looked up.
    const ranged = aoi.hasRanges;
    for (const player of this.world.state.players.values()) {
      const range = ranged ? aoi.ownPlayerRange(player) : undefined;
      // Most entities are far from every border: two comparisons per axis, nothing else.
      if (player.x > lx && player.x < hx && player.y > ly && player.y < hy && !this.reachesFarther(range)) continue;
      if (this.ghosts.has(player.id) || !aoi.isObserver(player)) continue;
      this.rowsFor(player, player.name, true, range);
    }
    for (const item of this.world.state.items.values()) {
      const range = ranged ? aoi.ownItemRange(item) : undefined;
      if (item.x > lx && item.x < hx && item.y > ly && item.y < hy && !this.reachesFarther(range)) continue;
      if (this.ghosts.has(item.id)) continue;
      this.rowsFor(item, item.kind, false, range);
      // Moved (by the game) into a neighbour, past the hysteresis: that region's to own.
      const owner = this.grid.ownerWithHysteresis(this.region, item, this.hysteresis);
      if (owner !== this.region) this.handing.set(item.id, owner);
      else this.handing.delete(item.id);
    }
    this.collecting = undefined;
    this.offerItems(batchFor);
    for (const [target, ids] of this.took) batchFor(target).took = ids;
    this.took.clear();
    for (const event of this.pendingEvents) {
      const reach = Math.max(event.half.x, event.half.y);
      this.grid.forNeighboursWithin(this.region, event.center, reach, (target) => batchFor(target).events.push(event));
    }
    this.pendingEvents.length = 0;
    for (const target of this.lastTargets) batchFor(target);
    if (this.moved.size > 0) {
      const moved: [string, RegionName][] = [];
      for (const [id, [to, at]] of this.moved) {
        if (this.now - at > MOVED_MS) this.moved.delete(id);
        else moved.push([id, to]);
      }
      if (moved.length > 0) for (const batch of out.values()) batch.moved = moved;
    }
    // Forget what was sent to a target an entity no longer reaches: it gets full vars if it comes back.
    for (const [target, sent] of this.sentVars) {
      const batch = out.get(target);
      if (!batch) {
        this.sentVars.delete(target);
        continue;
      }
      if (sent.size > batch.players.length + batch.items.length) {
        const live = new Set<string>();
        for (const r of batch.players) live.add(r[0]);
        for (const r of batch.items) live.add(r[0]);
        for (const id of sent.keys()) if (!live.has(id)) sent.delete(id);
      }
    }
    this.lastTargets = new Set([...out].filter(([, b]) => b.players.length + b.items.length > 0).map(([t]) => t));
    return out;
  }

  /** Puts the items still on offer into their target's batch (dropping any no longer own here). */
  private offerItems(batchFor: (target: RegionName) => GhostBatch): void {
    for (const [id, target] of this.handing) {
      const item = this.world.state.items.get(id);
      if (!item || !this.world.ownsItem(item)) {
        this.handing.delete(id);
        continue;
      }
      const range = this.world.aoi.ownItemRange(item);
      const row: ItemHandoffRow = [id, item.x, item.y, item.z, item.kind, readVars(item.vars), Object.fromEntries(this.world.hiddenVars(item))];
      if (range) row.push([range.x, range.y, range.z]);
      (batchFor(target).handing ??= []).push(row);
    }
  }

  /** The items handed in and out since the last call (the room tells its game: `onItemHandedIn`/`onItemHandedOut`). */
  takeItemMoves(): { arrived: [Item, RegionName][]; departed: [Item, RegionName][] } {
    const moves = this.itemMoves;
    this.itemMoves = { arrived: [], departed: [] };
    return moves;
  }

  private batchIn(out: Map<RegionName, GhostBatch>, target: RegionName): GhostBatch {
    let b = out.get(target);
    if (!b) out.set(target, (b = { from: this.region, players: [], items: [], events: [] }));
    return b;
  }

  /** True for a range larger than the AoI on x or y: its entity may reach a neighbour from the interior. */
  private reachesFarther(range: Readonly<Vec3> | undefined): boolean {
    return range !== undefined && (range.x > this.aoiXY.x || range.y > this.aoiXY.y);
  }

  private rowsFor(entity: Player | Item, label: string, isPlayer: boolean, range: Readonly<Vec3> | undefined): void {
    // A player's position is the schema's (World.place writes both), so no index lookup.
    this.visiting = { entity, label, isPlayer, range };
    const margin = range ? Math.max(range.x, range.y) + this.beyondAoi : this.margin;
    this.grid.forNeighboursWithin(this.region, entity, margin, this.visitTarget);
    this.visiting = undefined;
  }

  /** One row of the entity being visited, for `target` (its variables only when they changed since the last row to it). */
  private addRow(target: RegionName): void {
    const v = this.visiting!;
    const { entity } = v;
    let sent = this.sentVars.get(target);
    if (!sent) this.sentVars.set(target, (sent = new Map()));
    v.json ??= JSON.stringify(readVars(entity.vars));
    const changed = sent.get(entity.id) !== v.json;
    if (changed) sent.set(entity.id, v.json);
    const row: GhostRow = [entity.id, entity.x, entity.y, entity.z, v.label, changed ? (JSON.parse(v.json) as Record<string, VarValue>) : null];
    if (v.range) row.push([v.range.x, v.range.y, v.range.z]);
    const batch = this.batchIn(this.collecting!, target);
    (v.isPlayer ? batch.players : batch.items).push(row);
  }

  /**
   * Mirrors a neighbour's batch: creates, moves and updates its ghosts, and removes the ghosts
   * from that neighbour the batch no longer holds. An id this region owns is skipped (during a
   * handoff both regions hold the player for a moment: the own one wins). Returns the
   * proximity events for this region's own users to receive.
   */
  apply(batch: GhostBatch, now: number): ProximityEvent[] {
    this.now = now;
    // Items the sender took from this region's offers are its own now: ghosts here, first, so
    // the rows below update them (or, when they hold none, drop them like any ghost).
    for (const id of batch.took ?? []) this.letGo(id, batch.from, now);
    const live = new Set<string>();
    for (const row of batch.players) this.upsert(row, batch.from, now, true, live);
    for (const row of batch.items) this.upsert(row, batch.from, now, false, live);
    for (const row of batch.handing ?? []) this.takeItem(row, batch.from);
    // A player the sender handed on is the new owner's now: kept until that one's batches say.
    for (const [id, to] of batch.moved ?? []) {
      const ghost = this.ghosts.get(id);
      if (ghost && ghost.from === batch.from && !live.has(id) && to !== this.region) {
        ghost.from = to;
        ghost.seen = now;
      }
    }
    for (const [id, ghost] of this.ghosts) {
      if (ghost.from === batch.from && !live.has(id)) ghost.dropping = true;
    }
    return batch.events;
  }

  /**
   * Removes the ghosts marked for dropping since the last call: once per patch, right before
   * it (MMORoom.regionStep), so a ghost dropped by one batch and brought back by another
   * between two patches is never deleted and re-created. Returns how many went.
   */
  flush(): number {
    let n = 0;
    for (const [id, ghost] of this.ghosts) {
      if (!ghost.dropping) continue;
      this.drop(id, ghost);
      n++;
    }
    return n;
  }

  private upsert(row: GhostRow, from: RegionName, now: number, isPlayer: boolean, live: Set<string>): void {
    const [id, x, y, z, label, vars, range] = row;
    let ghost = this.ghosts.get(id);
    if (!ghost) {
      const own = isPlayer ? this.world.state.players.get(id) : this.world.state.items.get(id);
      if (own) return;
      const entity = isPlayer ? new Player().assign({ id, name: label }) : new Item().assign({ id, kind: label });
      ghost = { entity, from, seen: now };
      this.ghosts.set(id, ghost);
      this.world.addGhost(entity);
    }
    live.add(id);
    ghost.from = from;
    ghost.seen = now;
    ghost.dropping = false;
    const e = ghost.entity;
    if (e instanceof Player) {
      if (e.name !== label) e.name = label;
    } else if (e.kind !== label) e.kind = label;
    if (vars) replaceVars(e, vars);
    this.world.placeGhost(e, { x, y, z });
    const rangeKey = range ? range.join(",") : undefined;
    if (rangeKey !== ghost.range) {
      ghost.range = rangeKey;
      this.applyRange(e, range ? { x: range[0], y: range[1], z: range[2] } : null);
    }
  }

  /** Gives a ghost its entity's visibility range (after it is placed: the index knows it then). */
  private applyRange(e: Player | Item, range: Vec3 | null): void {
    const { aoi } = this.world;
    try {
      if (e instanceof Player) aoi.setPlayerRange(e, range);
      else aoi.setItemRange(e, range);
    } catch {
      // A range this world's settings refuse (regions of one world share them, so only a
      // mismatched deploy): the ghost is seen within the AoI.
      if (e instanceof Player) aoi.setPlayerRange(e, null);
      else aoi.setItemRange(e, null);
    }
  }

  /** An own item the region `to` has taken: it stays in the state as that region's ghost. */
  private letGo(id: string, to: RegionName, now: number): void {
    if (this.handing.get(id) !== to) return;
    this.handing.delete(id);
    const item = this.world.state.items.get(id);
    if (!item || !this.world.ownsItem(item)) return;
    this.world.disownItem(item);
    const range = this.world.aoi.ownItemRange(item);
    this.ghosts.set(id, { entity: item, from: to, seen: now, range: range && [range.x, range.y, range.z].join(",") });
    for (const sent of this.sentVars.values()) sent.delete(id);
    this.itemMoves.departed.push([item, to]);
  }

  /**
   * An item a neighbour hands over (it moved into this region): owned here from now on, the
   * ghost instance kept (its observers here see it go on), and the sender is told in the next
   * batch. An offer of an item already owned here is only acknowledged again (a lost answer).
   */
  private takeItem(row: ItemHandoffRow, from: RegionName): void {
    const [id, x, y, z, kind, vars, hidden, range] = row;
    const acks = this.took.get(from) ?? [];
    this.took.set(from, acks);
    const current = this.world.state.items.get(id);
    if (current && this.world.ownsItem(current)) return void acks.push(id);
    const pos = { x, y, z };
    if (!this.world.isInsideMap(pos)) return; // not taken: the sender keeps it
    let item: Item;
    const ghost = this.ghosts.get(id);
    if (ghost && ghost.entity instanceof Item) {
      this.ghosts.delete(id);
      item = ghost.entity;
      this.world.adoptItem(item, hidden);
      if (item.kind !== kind) item.kind = kind;
      replaceVars(item, vars);
      this.world.place(item, pos);
    } else {
      item = this.world.addItem(kind, pos, vars, hidden, id);
    }
    this.applyRange(item, range ? { x: range[0], y: range[1], z: range[2] } : null);
    acks.push(id);
    this.itemMoves.arrived.push([item, from]);
  }

  /** Removes ghosts no batch refreshed for `ttlMs` (their region's process died or stopped sending). */
  expire(now: number, ttlMs: number): number {
    let n = 0;
    for (const [id, ghost] of this.ghosts) {
      if (now - ghost.seen > ttlMs) {
        this.drop(id, ghost);
        n++;
      }
    }
    return n;
  }

  /**
   * Takes a ghost over as this region's own (a handoff arrives): the same schema instance
   * stays in the state, so this region's clients see it continue, not leave and re-enter.
   */
  adopt(id: string): Player | undefined {
    const ghost = this.ghosts.get(id);
    if (!ghost || !(ghost.entity instanceof Player)) return undefined;
    this.ghosts.delete(id);
    return ghost.entity;
  }

  /**
   * One of this region's players was handed to `to`: it stays here as that region's ghost
   * until `to`'s batches update or drop it (its observers here never see a gap).
   */
  demote(player: Player, to: RegionName, now: number): void {
    this.world.demoteToGhost(player);
    // It keeps its range here (the index holds it) until the new owner's rows say otherwise.
    const range = this.world.aoi.ownPlayerRange(player);
    this.ghosts.set(player.id, { entity: player, from: to, seen: now, range: range && [range.x, range.y, range.z].join(",") });
    for (const sent of this.sentVars.values()) sent.delete(player.id);
    this.moved.set(player.id, [to, now]);
    this.now = Math.max(this.now, now);
  }

  private drop(id: string, ghost: Ghost): void {
    this.ghosts.delete(id);
    this.world.removeGhost(ghost.entity);
  }
}

/** Makes an entity's public variables exactly `vars` (names not in it are deleted). */
function replaceVars(entity: Player | Item, vars: Record<string, VarValue>): void {
  const current = readVars(entity.vars);
  for (const name of Object.keys(current)) if (!(name in vars)) writeVar(entity.vars, name, null);
  for (const [name, value] of Object.entries(vars)) writeVar(entity.vars, name, value);
}
