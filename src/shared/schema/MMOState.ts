import { MapSchema, Schema, type, view } from "@colyseus/schema";
import { Item } from "./Item";
import { Player } from "./Player";
import { Vars } from "./Vars";
import { Vec3State } from "./Vec3State";

/**
 * The room's state. `players` and `items` are filtered: each client receives only the
 * entries its StateView holds (its AoI). The rest is visible to everyone.
 */
export class MMOState extends Schema {
  @view() @type({ map: Player }) players = new MapSchema<Player>();
  @view() @type({ map: Item }) items = new MapSchema<Item>();
  /** Users in the room, limbo included (SmartFoxServer's USER_COUNT_CHANGE). */
  @type("uint32") userCount = 0;
  /** AoI half-extents, so clients can size their view. */
  @type(Vec3State) aoi = new Vec3State();
  @type(Vec3State) lowerMapLimit = new Vec3State();
  @type(Vec3State) higherMapLimit = new Vec3State();
  /** Units per second a held key moves a player, so clients can predict their own movement. */
  @type("number") speed = 0;
  /** How often (ms) the server sends patches, so clients can tell a late patch from a pause. */
  @type("uint32") patchRate = 0;
  /** Room Variables (SmartFoxServer's RoomVariables): visible to everyone in the world. */
  @type(Vars) roomVars = new Vars();
  /**
   * Private user variables, by sessionId: each client's view holds its own entry only, so
   * another client's bytes never carry them (a separate filtered map, not a @view field on
   * Player, which would send every player change through the per-view encoder).
   */
  @view() @type({ map: Vars }) privateVars = new MapSchema<Vars>();
}
