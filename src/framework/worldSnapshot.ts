import type { Clock } from "@colyseus/core";
import { logger } from "@colyseus/core";
import type { Item } from "../shared/schema";
import type { Vec3 } from "../shared/vector";
import { readVars } from "../shared/vars";
import type { IdentitySigner } from "./persistence/identity";
import type { SavedItem, WorldSnapshot, WorldStore } from "./persistence/WorldStore";
import type { PlayerMemory } from "./PlayerMemory";
import type { MMOSession } from "./Sessions";
import { type World, applyVars } from "./World";

/** The world as a snapshot: its items with their hidden variables and visibility ranges, and its players by identity. */
export function takeSnapshot(world: World, memory: PlayerMemory, sessions: Iterable<MMOSession>): WorldSnapshot {
  for (const session of sessions) memory.remember(session);
  const items: SavedItem[] = [];
  world.state.items.forEach((item: Item) => {
    if (!world.ownsItem(item)) return; // a neighbouring region's ghost: saved by its own region
    items.push({
      id: item.id,
      kind: item.kind,
      x: item.x,
      y: item.y,
      z: item.z,
      vars: readVars(item.vars),
      hidden: Object.fromEntries(world.hiddenVars(item)),
      ...optionalRange(world.aoi.itemRange(item)),
    });
  });
  return { version: 1, savedAt: Date.now(), nextItemId: world.nextItemId, items, roomVars: readVars(world.state.roomVars), players: memory.all() };
}

function optionalRange(range: Vec3 | undefined): { range?: Vec3 } {
  return range ? { range } : {};
}

/** Puts a snapshot's items back into a new world (items outside the map are dropped). */
export function restoreSnapshot(world: World, memory: PlayerMemory, snapshot: WorldSnapshot): void {
  for (const saved of snapshot.items) {
    const p = { x: saved.x, y: saved.y, z: saved.z };
    if (!world.isInsideMap(p)) continue;
    const item = world.addItem(saved.kind, p, saved.vars, saved.hidden ?? {}, saved.id);
    // A range the world's settings no longer allow (a smaller AoI or cap) is dropped: the item stays.
    if (saved.range) {
      try {
        world.aoi.setItemRange(item, saved.range);
      } catch {
        // seen within the AoI, as any item
      }
    }
  }
  world.nextItemId = Math.max(world.nextItemId, snapshot.nextItemId);
  if (snapshot.roomVars) applyVars(world.state.roomVars, snapshot.roomVars);
  memory.replaceAll(snapshot.players);
}

/** Where a room keeps its world, and who signs guest identities (arena.config.ts sets both). */
export interface PersistenceOptions {
  store: WorldStore;
  identity?: IdentitySigner;
  /** Seconds between snapshots (default 5). */
  snapshotSeconds?: number;
}

/**
 * Keeps one world in a store: restores it when its room is created, saves it every
 * `snapshotSeconds` and whenever the room asks (drain, dispose). A failed save is logged,
 * never thrown: the room plays on and the next snapshot tries again.
 */
export class WorldKeeper {
  /** The world came from the store (so it is kept, entered again or not). */
  private loaded = false;
  /** Set by `handOn`: another room has the world now. */
  private handedOn = false;

  constructor(
    private readonly options: PersistenceOptions,
    private readonly worldName: string,
    private readonly snapshot: () => WorldSnapshot,
    /**
     * True once a player took a position in the world. A world nobody ever entered (a
     * stranger naming a new world in every request) is never written.
     */
    private readonly entered: () => boolean,
  ) {}

  /** True for real options (objects with methods): join options (JSON) can never pose as a store. */
  static accepts(options: unknown): options is PersistenceOptions {
    return typeof (options as PersistenceOptions | undefined)?.store?.load === "function";
  }

  /** Loads the saved world (undefined for a new one) and starts the periodic snapshots. */
  async start(clock: Clock): Promise<WorldSnapshot | undefined> {
    const saved = await this.options.store.load(this.worldName);
    this.loaded = saved !== undefined;
    clock.setInterval(() => void this.save(), (this.options.snapshotSeconds ?? 5) * 1000);
    return saved;
  }

  /**
   * The last save of this room: the world goes on in another room (a draining region hands its
   * part on), which loads it. Nothing more is written from here, so no late save of this room
   * overwrites that room's.
   */
  async handOn(): Promise<void> {
    await this.save();
    this.handedOn = true;
  }

  async save(): Promise<void> {
    if (this.handedOn || (!this.loaded && !this.entered())) return;
    try {
      await this.options.store.save(this.worldName, this.snapshot());
    } catch (e) {
      logger.error(`[mmo ${this.worldName}] could not save the world:`, e);
    }
  }
}
