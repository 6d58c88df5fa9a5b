import type { Clock } from "@colyseus/core";
import { logger } from "@colyseus/core";
import type { Item } from "../shared/schema";
import type { IdentitySigner } from "./persistence/identity";
import { MAX_SAVED_PLAYERS, type SavedItem, type SavedPlayer, type WorldSnapshot, type WorldStore } from "./persistence/WorldStore";
import type { MMOSession } from "./Sessions";
import type { World } from "./World";

/**
 * What a world remembers of its players between visits, by guest identity: where they were
 * and their variables. Capped at MAX_SAVED_PLAYERS (the least recently seen are forgotten).
 */
export class PlayerMemory {
  private players: Record<string, SavedPlayer> = {};

  /** What the world remembers of `identity`, if anything. */
  recall(identity: string): SavedPlayer | undefined {
    return this.players[identity];
  }

  /** Records a session's player now (on leave, and before every snapshot). */
  remember(session: MMOSession): void {
    if (!session.identity) return;
    const { player } = session;
    const previous = this.players[session.identity];
    // A player still in limbo has not moved: keep where they were.
    const at = session.inLimbo ? (session.savedPosition ?? previous) : player;
    if (!at) return;
    this.players[session.identity] = {
      name: player.name,
      x: at.x,
      y: at.y,
      z: at.z,
      vars: Object.fromEntries(player.vars.entries()),
      seenAt: Date.now(),
    };
  }

  /** Everything remembered, trimmed to the cap (a copy, for a snapshot). */
  all(): Record<string, SavedPlayer> {
    const entries = Object.entries(this.players);
    if (entries.length > MAX_SAVED_PLAYERS) {
      entries.sort((a, b) => b[1].seenAt - a[1].seenAt);
      this.players = Object.fromEntries(entries.slice(0, MAX_SAVED_PLAYERS));
    }
    return { ...this.players };
  }

  replaceAll(players: Record<string, SavedPlayer>): void {
    this.players = { ...players };
  }
}

/** The world as a snapshot: its items with their hidden variables, and its players by identity. */
export function takeSnapshot(world: World, memory: PlayerMemory, sessions: Iterable<MMOSession>): WorldSnapshot {
  for (const session of sessions) memory.remember(session);
  const items: SavedItem[] = [];
  world.state.items.forEach((item: Item) => {
    items.push({
      id: item.id,
      kind: item.kind,
      x: item.x,
      y: item.y,
      z: item.z,
      vars: Object.fromEntries(item.vars.entries()),
      hidden: Object.fromEntries(world.hiddenVars(item)),
    });
  });
  return { version: 1, savedAt: Date.now(), nextItemId: world.nextItemId, items, players: memory.all() };
}

/** Puts a snapshot's items back into a new world (items outside the map are dropped). */
export function restoreSnapshot(world: World, memory: PlayerMemory, snapshot: WorldSnapshot): void {
  for (const saved of snapshot.items) {
    const p = { x: saved.x, y: saved.y, z: saved.z };
    if (!world.isInsideMap(p)) continue;
    world.addItem(saved.kind, p, saved.vars, saved.hidden ?? {}, saved.id);
  }
  world.nextItemId = Math.max(world.nextItemId, snapshot.nextItemId);
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
  constructor(
    private readonly options: PersistenceOptions,
    private readonly worldName: string,
    private readonly snapshot: () => WorldSnapshot,
  ) {}

  /** True for real options (objects with methods): join options (JSON) can never pose as a store. */
  static accepts(options: unknown): options is PersistenceOptions {
    return typeof (options as PersistenceOptions | undefined)?.store?.load === "function";
  }

  /** Loads the saved world (undefined for a new one) and starts the periodic snapshots. */
  async start(clock: Clock): Promise<WorldSnapshot | undefined> {
    const saved = await this.options.store.load(this.worldName);
    clock.setInterval(() => void this.save(), (this.options.snapshotSeconds ?? 5) * 1000);
    return saved;
  }

  async save(): Promise<void> {
    try {
      await this.options.store.save(this.worldName, this.snapshot());
    } catch (e) {
      logger.error(`[mmo ${this.worldName}] could not save the world:`, e);
    }
  }
}
