import { type Client, Room } from "@colyseus/core";
import { type ProximityDiff, checkCustomAoi } from "../aoi";
import { messagesRejected } from "../ops/metrics";
import type { MMOErrorCode } from "../shared/codes";
import { DEFAULT_WORLD, type MMOError, type VarValue } from "../shared/protocol";
import { Item, type MMOState, Player } from "../shared/schema";
import { readVars } from "../shared/vars";
import type { Position, Vec3 } from "../shared/vector";
import type { MMOSession, Sessions } from "./Sessions";
import type { MMOSettings } from "./settings";
import { type PublicVars, type World, applyProximityDiff, applyVars } from "./World";

/** Something a proximity query can be centred on. */
export type ProximityCenter = Client | Player | Vec3;

/**
 * The server-side API game code calls (SmartFoxServer's MMOApi): positions, items and their
 * variables, proximity queries and messages. MMORoom (the Colyseus lifecycle) extends it;
 * a game extends MMORoom and calls these as `this.addItem(...)`, `this.getProximityList(...)`.
 */
export abstract class MMOApi extends Room<{ state: MMOState }> {
  settings!: MMOSettings;
  /** The world this room serves (the `world` join option). */
  world = DEFAULT_WORLD;
  /** The world's entities: players and items, their positions (schema and AoI index) and variables. */
  entities!: World;
  /** Every user in the room, limbo and dropped ones included. */
  protected sessions!: Sessions;
  /** User variables only the server may set (e.g. a score); a client's `vars` naming one is refused. */
  protected readonly serverUserVars = new Set<string>();
  /** Private user variables only the server may set (e.g. an inventory); a client's `privateVars` naming one is refused. */
  protected readonly serverPrivateVars = new Set<string>();
  /**
   * User variables every player starts with (e.g. score 0): a guest whose variables hold
   * only these earned nothing and is not remembered by the world.
   */
  protected readonly userVarDefaults = new Map<string, VarValue>();

  /** Recomputes every client's AoI now (it runs by itself every `proximityUpdateMillis`). */
  updateProximity(): void {
    this.entities.aoi.update(this.applyDiff);
  }

  /**
   * SetUserPosition: places a user's player. The first call takes the user out of limbo: it
   * sees its AoI with the next patch, and others see it at their next proximity update.
   * @throws RangeError if `pos` is outside the map limits or not finite.
   */
  setUserPosition(client: Client | string, pos: Position): void {
    const session = this.sessions.require(client);
    this.entities.place(session.player, this.entities.checkedPosition(pos));
    session.movedAt = this.clock.currentTime;
    if (this.sessions.leaveLimbo(session)) {
      const { x, y, z } = session.player;
      session.entryPoint = { x, y, z };
      session.client.view?.add(session.player);
      this.entities.aoi.update(this.applyDiff, session.player);
      this.usersChanged();
    }
    this.onPlayerMove(session);
  }

  /** A user joined, left, or left limbo (MMORoom refreshes the room listing's counts). */
  protected usersChanged(): void {}

  /** Adds an item (an MMOItem) at `pos`: `publicVars` reach the clients that see it, `hiddenVars` never leave the server. */
  addItem(kind: string, pos: Position, publicVars: PublicVars = {}, hiddenVars: Record<string, unknown> = {}): Item {
    return this.entities.addItem(kind, pos, publicVars, hiddenVars);
  }

  /** Moves an item; clients that see it get the new position with the next patch. */
  setItemPosition(item: Item | string, pos: Position): void {
    this.entities.place(this.entities.requireItem(item), this.entities.checkedPosition(pos));
  }

  /**
   * Sets (a typed value: boolean, number, string, object/array) or deletes (null) a user's
   * variables from the server, read-only ones included; clients whose AoI holds the user get
   * them with the next patch. @throws TypeError for a value that is none (NaN, undefined...).
   */
  setUserVariables(client: Client | string, vars: PublicVars): void {
    applyVars(this.sessions.require(client).player.vars, vars);
  }

  /** A user's public variables, typed. */
  getUserVariables(client: Client | string): Record<string, VarValue> {
    return readVars(this.sessions.require(client).player.vars);
  }

  /**
   * Sets or deletes a user's private variables (SmartFoxServer's private User Variables: an
   * inventory, quest flags): only that user's client receives them. @throws TypeError as setUserVariables.
   */
  setUserPrivateVariables(client: Client | string, vars: PublicVars): void {
    applyVars(this.entities.privateVarsOf(this.sessions.require(client).player), vars);
  }

  /** A user's private variables, typed. */
  getUserPrivateVariables(client: Client | string): Record<string, VarValue> {
    return readVars(this.entities.privateVarsOf(this.sessions.require(client).player));
  }

  /** Sets (a typed value) or deletes (null) an item's public variables. @throws TypeError as setUserVariables. */
  setItemVariables(item: Item | string, vars: PublicVars): void {
    applyVars(this.entities.requireItem(item).vars, vars);
  }

  /**
   * Sets or deletes Room Variables (`state.roomVars`): every client in the world gets them with
   * the next patch, so change them sparingly (SmartFoxServer's advice for MMORooms). Not capped
   * here (clients' writes are: ROOM_VAR_LIMITS, `roomVarsWritesPerSecond`). @throws TypeError as setUserVariables.
   */
  setRoomVariables(vars: PublicVars): void {
    applyVars(this.state.roomVars, vars);
  }

  /** The Room Variables, typed. */
  getRoomVariables(): Record<string, VarValue> {
    return readVars(this.state.roomVars);
  }

  /** Sets (a value) or deletes (undefined) an item's server-only variables. */
  setItemHiddenVariables(item: Item | string, vars: Record<string, unknown>): void {
    this.entities.setHiddenVars(item, vars);
  }

  /** An item's server-only variables (never in the state). */
  getItemHiddenVariables(item: Item | string): ReadonlyMap<string, unknown> {
    return this.entities.hiddenVars(item);
  }

  /** Removes an item from the world; clients that saw it get a remove. */
  removeItem(item: Item | string): boolean {
    return this.entities.removeItem(item);
  }

  getItemById(id: string): Item | undefined {
    return this.state.items.get(id);
  }

  /**
   * Positioned players inside the box around a player, client or point (default: the AoI); never the centre player.
   * A custom `aoi` may be smaller than the room's, never larger on any axis (SmartFoxServer's rule; RangeError).
   * The box is the querier's: entities' visibility ranges do not change it.
   */
  getProximityList(center: ProximityCenter, aoi: Vec3 = this.settings.aoi): Player[] {
    checkCustomAoi(aoi, this.settings.aoi);
    const self = this.playerOf(center);
    const pos = this.centerOf(center);
    return pos ? this.entities.aoi.playersNear(pos, aoi).filter((p) => p !== self) : [];
  }

  /** Items inside the box around a player, client or point (default: the AoI; a custom one at most the AoI). */
  getProximityItems(center: ProximityCenter, aoi: Vec3 = this.settings.aoi): Item[] {
    checkCustomAoi(aoi, this.settings.aoi);
    const pos = this.centerOf(center);
    return pos ? this.entities.aoi.itemsNear(pos, aoi) : [];
  }

  /**
   * Sends to every connected, positioned user inside the box around `center` (the sender included). Returns how many got it.
   * The box is the room's AoI or a custom one at most that size (RangeError otherwise); visibility ranges do not change it.
   */
  sendToProximity(center: ProximityCenter, type: string, message: unknown, aoi: Vec3 = this.settings.aoi): number {
    checkCustomAoi(aoi, this.settings.aoi);
    const pos = this.centerOf(center);
    if (!pos) return 0;
    this.onProximitySend(pos, aoi, type, message);
    return this.deliverProximity(pos, aoi, type, message);
  }

  /** A proximity message is being sent (a split world forwards it to the neighbouring regions its box reaches). */
  protected onProximitySend(_center: Vec3, _half: Vec3, _type: string, _message: unknown): void {}

  /** Sends to this room's connected, positioned users inside the box; returns how many got it. */
  protected deliverProximity(pos: Vec3, aoi: Vec3, type: string, message: unknown): number {
    let sent = 0;
    for (const player of this.entities.aoi.playersNear(pos, aoi)) {
      const session = this.sessions.get(player.id);
      if (!session || session.reconnection) continue;
      session.client.send(type, message);
      sent++;
    }
    return sent;
  }

  /**
   * Gives a user's player or an item its own visibility range (half-extents per axis; null:
   * back to the room's AoI). Observer C sees entity E when E is inside C's box of E's range,
   * entering inside it and leaving outside range + aoiLeaveMargin, with the usual proximity
   * adds and removes at each observer's next update. Larger than the AoI: seen from farther
   * (a landmark, a boss); smaller: only from closer (a sneaking player). A user in limbo
   * keeps it for when it is placed. Items' ranges are kept in world snapshots; a user's
   * range ends with its session.
   * @throws RangeError unless finite and positive (0 on an axis where the AoI is 0), at most
   * `maxVisibilityRange` x the AoI on each axis; Error for an entity not in this room.
   */
  setVisibilityRange(entity: Client | Player | Item, range: Vec3 | null): void {
    if (entity instanceof Item) this.entities.aoi.setItemRange(this.entities.requireItem(entity), range);
    else this.entities.aoi.setPlayerRange(this.requirePlayer(entity), range);
  }

  /** An entity's own visibility range, or undefined when it is seen within the room's AoI. */
  getVisibilityRange(entity: Client | Player | Item): Vec3 | undefined {
    if (entity instanceof Item) return this.entities.aoi.itemRange(this.entities.requireItem(entity));
    return this.entities.aoi.playerRange(this.requirePlayer(entity));
  }

  /** A random free position inside the map limits (see `World.findFreePosition`). */
  findFreePosition(clearance = 32, attempts = 32): Vec3 {
    return this.entities.findFreePosition(clearance, attempts);
  }

  isInsideMap(pos: Vec3): boolean {
    return this.entities.isInsideMap(pos);
  }

  getSession(client: Client | string): MMOSession | undefined {
    return this.sessions.get(client);
  }

  /** Called after a player's position changed (`position`, key movement, `setUserPosition`): game rules go here. */
  protected onPlayerMove(_session: MMOSession): void {}

  /** Sends the `error` message (and counts it). */
  protected sendError(client: Client, code: MMOErrorCode, message: string, request?: string): void {
    const payload: MMOError = { code, message, request };
    messagesRejected.inc({ reason: code });
    client.send("error", payload);
  }

  protected readonly applyDiff = (observer: Player, players: ProximityDiff<Player>, items: ProximityDiff<Item>): void => {
    const view = this.sessions.get(observer.id)?.client.view;
    if (view) applyProximityDiff(view, players, items);
  };

  private requirePlayer(entity: Client | Player): Player {
    const player = entity instanceof Player ? entity : this.sessions.require(entity).player;
    if (this.state.players.get(player.id) !== player) throw new Error(`no player ${player.id} in this room`);
    return player;
  }

  private playerOf(center: ProximityCenter): Player | undefined {
    if (center instanceof Player) return center;
    if ("sessionId" in center) return this.sessions.get(center)?.player;
    return undefined;
  }

  /** The point a query is centred on; undefined for a player still in limbo. */
  private centerOf(center: ProximityCenter): Vec3 | undefined {
    const player = this.playerOf(center);
    return player ? this.entities.positionOf(player) : (center as Vec3);
  }
}
