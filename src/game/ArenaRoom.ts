import type { Client } from "@colyseus/core";
import { z } from "zod";
import { type Item, MMORoom, type MMORoomOptions, type MMOSession } from "../framework";
import { hasVar, readVar } from "../shared/vars";
import type { Vec3 } from "../shared/vector";
import { nearbyTarget, stepToward } from "./wander";

/** The demo game's own settings. */
export const arenaGameSchema = z
  .object({
    /** Gems on the map at any time; a collected gem respawns elsewhere. */
    gems: z.number().int().min(0).max(100_000).default(300),
    /** Wandering NPCs (server-driven items). */
    npcs: z.number().int().min(0).max(100_000).default(60),
    /** A gem is collected when a player is within this distance on x and y. */
    pickupRadius: z.number().positive().default(28),
    /** NPC speed, units per second. */
    npcSpeed: z.number().positive().default(90),
    /** How far an NPC wanders from where it is. */
    npcRange: z.number().positive().default(400),
  })
  .strict();
export type ArenaGameSettings = z.output<typeof arenaGameSchema>;

export interface ArenaRoomOptions extends MMORoomOptions {
  game?: z.input<typeof arenaGameSchema>;
}

const NPC_TICK_MS = 100;

/**
 * The demo game on top of MMORoom: gems spread over the map that players collect by walking
 * over them (score in the player's read-only `score` variable, the gem respawns elsewhere),
 * and NPCs that wander on their own. Enough traffic to make the AoI visible.
 */
export class ArenaRoom extends MMORoom {
  game!: ArenaGameSettings;
  private readonly npcTargets = new Map<Item, Vec3>();

  override async onCreate(options: ArenaRoomOptions = {}): Promise<void> {
    await super.onCreate(options);
    this.game = arenaGameSchema.parse(options.game ?? {});
    this.serverUserVars.add("score");
    // Every player starts at 0: a guest still at 0 earned nothing, and is not remembered.
    this.userVarDefaults.set("score", 0);
    const { lower, higher } = this.npcArea();
    if (!this.restored) {
      // A new world; a restored one already has its gems and NPCs.
      for (let i = 0; i < this.game.gems; i++) this.spawnGem();
      for (let i = 0; i < this.game.npcs; i++) this.addItem("npc", this.findFreePosition(48), { name: `npc-${i + 1}` });
    }
    this.state.items.forEach((item) => {
      if (item.kind === "npc") this.npcTargets.set(item, nearbyTarget(item, this.game.npcRange, lower, higher));
    });
    this.clock.setInterval(() => this.wander(NPC_TICK_MS), NPC_TICK_MS);
  }

  override async onJoin(client: Client, options?: Record<string, unknown>): Promise<void> {
    await super.onJoin(client, options);
    // A returning player keeps the score the world remembers.
    if (!hasVar(this.getSession(client)?.player.vars, "score")) this.setUserVariables(client, { score: 0 });
  }

  protected override onPlayerMove(session: MMOSession): void {
    const r = this.game.pickupRadius;
    // A custom AoI may not exceed the room's on any axis (z is 0 in a 2D world; a world of
    // the worlds table may have an AoI smaller than the pickup radius).
    const { aoi } = this.settings;
    for (const item of this.getProximityItems(session.player, { x: Math.min(r, aoi.x), y: Math.min(r, aoi.y), z: Math.min(r, aoi.z) })) {
      // A gem across a region border is the neighbour's (a read-only ghost here): not this
      // room's to collect. Scoring it anyway scored, and spawned a gem, on every step.
      if (item.kind !== "gem" || !this.removeItem(item)) continue;
      // Typed: numbers (a score a world saved before variables were typed is a string; Number() reads both).
      const score = Number(readVar(session.player.vars, "score") ?? 0) + Number(readVar(item.vars, "value") ?? 1);
      this.setUserVariables(session.client, { score });
      this.spawnGem();
    }
  }

  private spawnGem(): Item {
    return this.addItem("gem", this.findFreePosition(48), { value: 1 });
  }

  /**
   * Where NPCs wander: the map, or this region's part of it in a world split into regions (an
   * NPC stays its region's item, mirrored only near the border: one that wandered deep into a
   * neighbour was seen by nobody there).
   */
  private npcArea(): { lower: Vec3; higher: Vec3 } {
    return this.entities.spawnArea ?? this.settings.mapLimits;
  }

  private wander(dtMs: number): void {
    const { lower, higher } = this.npcArea();
    const step = (this.game.npcSpeed * dtMs) / 1000;
    for (const [npc, target] of this.npcTargets) {
      const { position, arrived } = stepToward(npc, target, step);
      this.setItemPosition(npc, position);
      if (arrived) this.npcTargets.set(npc, nearbyTarget(position, this.game.npcRange, lower, higher));
    }
  }
}
