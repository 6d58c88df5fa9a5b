import { MapSchema, Schema, type } from "@colyseus/schema";
import type { Vec3 } from "../src/shared/vector";
import { Item, MMOState, Player } from "../src/shared/schema";
import { rng } from "../test/helpers/rng";
import { writeVar } from "../src/shared/vars";

/** One benchmark scene: how many players and items, and how many entities each client should see. */
export interface SceneSpec {
  name: string;
  players: number;
  items: number;
  /** Share of items that move every patch (NPCs); the rest stay put. */
  movingItems: number;
  /** Entities (players + items) inside one client's AoI on average; sizes the map. */
  visible: number;
  /** Far-visible items (a visibility range of `farRange` x the AoI): the first items, which move. Default 0. */
  farVisible?: number;
  farRange?: number;
}

export const AOI: Vec3 = { x: 560, y: 400, z: 0 };
export const MARGIN = 32;
export const PATCH_MS = 50;
export const PROXIMITY_MS = 250;
/** Units per second, as the room's default `speed`. */
export const SPEED = 240;

/** Map side so that a uniform scene puts `visible` entities in one AoI box on average. */
export function mapSide(spec: SceneSpec): number {
  const boxArea = 4 * AOI.x * AOI.y;
  return Math.sqrt(((spec.players + spec.items) * boxArea) / spec.visible);
}

/** The same schema without the per-client filter: what an unfiltered broadcast sends. */
export class BroadcastState extends Schema {
  @type({ map: Player }) players = new MapSchema<Player>();
  @type({ map: Item }) items = new MapSchema<Item>();
  @type("uint32") userCount = 0;
}

/**
 * The world of a scene: every player random-walks (a heading that turns now and then, at
 * the room's speed), and a share of the items wander the same way. Deterministic per seed.
 */
export class Scene {
  readonly side: number;
  readonly players: Player[] = [];
  readonly items: Item[] = [];
  readonly moving: Item[] = [];
  private readonly heading = new Map<Player | Item, number>();
  private readonly random: () => number;

  constructor(
    readonly spec: SceneSpec,
    readonly state: MMOState | BroadcastState,
    seed = 7,
  ) {
    this.random = rng(seed);
    this.side = mapSide(spec);
    const r = this.random;
    for (let i = 0; i < spec.players; i++) {
      const p = new Player().assign({ id: `p${i}`, name: `player-${i}`, x: r() * this.side, y: r() * this.side, z: 0 });
      writeVar(p.vars, "score", 0);
      state.players.set(p.id, p);
      this.players.push(p);
      this.heading.set(p, r() * Math.PI * 2);
    }
    for (let i = 0; i < spec.items; i++) {
      const it = new Item().assign({ id: `i${i}`, kind: i % 10 === 0 ? "npc" : "gem", x: r() * this.side, y: r() * this.side, z: 0 });
      writeVar(it.vars, "value", 1);
      state.items.set(it.id, it);
      this.items.push(it);
      if (i < spec.items * spec.movingItems) {
        this.moving.push(it);
        this.heading.set(it, r() * Math.PI * 2);
      }
    }
    state.userCount = spec.players;
  }

  /** One patch worth of movement; calls `moved` for each entity that moved. */
  step(moved: (e: Player | Item) => void): void {
    const d = (SPEED * PATCH_MS) / 1000;
    const r = this.random;
    const walk = (e: Player | Item) => {
      let h = this.heading.get(e)!;
      if (r() < 0.05) h += (r() - 0.5) * Math.PI;
      let x = e.x + Math.cos(h) * d;
      let y = e.y + Math.sin(h) * d;
      if (x < 0 || x > this.side) {
        h = Math.PI - h;
        x = Math.min(this.side, Math.max(0, x));
      }
      if (y < 0 || y > this.side) {
        h = -h;
        y = Math.min(this.side, Math.max(0, y));
      }
      this.heading.set(e, h);
      e.x = x;
      e.y = y;
      moved(e);
    };
    for (const p of this.players) walk(p);
    for (const it of this.moving) walk(it);
  }
}
