import {
  type AuthContext,
  type Client,
  type Delayed,
  type Deferred,
  CloseCode,
  Room,
  type SchemaSerializer,
  ServerError,
  logger,
  matchMaker,
} from "@colyseus/core";
import { Encoder, StateView } from "@colyseus/schema";
import type { z } from "zod";
import { InterestManager, type ProximityDiff, type Vec3 } from "../aoi";
import { Item, MMOState, Player, Vec3State } from "../schema";
import { aoiSeconds, bytesSent, liveRooms, messagesRejected, patchSeconds } from "../metrics";
import type { IdentitySigner } from "../persistence/identity";
import { MAX_SAVED_PLAYERS, type SavedItem, type WorldSnapshot, type WorldStore } from "../persistence/WorldStore";
import { FanOutSerializer } from "./FanOutSerializer";
import { type KeyState, anyKeyHeld, stepPosition } from "./movement";
import {
  CLOSE_LIMBO_TIMEOUT,
  WORLD_FULL,
  type ChatBroadcast,
  DEFAULT_WORLD,
  MMOErrorCode,
  type MMOError,
  NAME_MAX_LENGTH,
  VAR_LIMITS,
  clientMessages,
  describeIssues,
  joinOptionsSchema,
} from "./protocol";
import { type MMOSettings, type MMOSettingsInput, resolveSettings } from "./settings";

// Big rooms send big full states on join; the default 8 KiB buffer grows by reallocation.
Encoder.BUFFER_SIZE = Math.max(Encoder.BUFFER_SIZE, 256 * 1024);

/** Options the room is created with: `settings` from arena.config.ts, `world` from the client. */
export interface MMORoomOptions {
  world?: string;
  settings?: MMOSettingsInput;
  /** Where worlds are kept, and who signs guest identities (arena.config.ts sets both). */
  persistence?: { store: WorldStore; identity?: IdentitySigner; snapshotSeconds?: number };
}

/** What `onAuth` hands to `onJoin` (as `client.auth`). */
interface GuestAuth {
  playerId: string;
  /** A new token to send to the client (first join), or undefined. */
  issuedToken?: string;
}

/** Join error codes of guest identities. */
export const IDENTITY_INVALID = 4401;
export const IDENTITY_IN_USE = 4409;

/** What the room keeps per user, connected or waiting to reconnect. */
export interface MMOSession {
  client: Client;
  readonly player: Player;
  /** True until the first position. */
  inLimbo: boolean;
  keys: KeyState;
  limboTimer?: Delayed;
  /** Set while the client is dropped and may reconnect. */
  reconnection?: Deferred<Client>;
  /** Set when the server closed the client on purpose: no reconnection. */
  kicked: boolean;
  /** The guest identity (persistent player id), when identities are on. */
  identity?: string;
  /** Where a returning player was: `spawn` puts them back there. */
  savedPosition?: Vec3;
  /** Room clock time of the last accepted position (for `maxSpeed`). */
  movedAt?: number;
}

/** Something a proximity query can be centred on. */
export type ProximityCenter = Client | Player | Vec3;

type PublicVars = Record<string, string | null>;

/**
 * An MMO room with SmartFoxServer MMORoom semantics, the Colyseus way: every client holds a
 * StateView of exactly the players and items inside its Area of Interest, and learns about
 * entities entering and leaving it through ordinary schema add/remove patches.
 *
 * Extend it for your game: override `onCreate` (call `super.onCreate(options)` first) and use
 * the server-side API (`addItem`, `getProximityList`, `sendToProximity`, ...), or the
 * `onPlayerMove` hook.
 *
 * @example
 * ```typescript
 * class TreasureRoom extends MMORoom {
 *   override onCreate(options: MMORoomOptions) {
 *     super.onCreate(options);
 *     for (let i = 0; i < 100; i++) {
 *       this.addItem("chest", this.findFreePosition(), { gold: "10" }, { trap: Math.random() < 0.1 });
 *     }
 *   }
 *   protected override onPlayerMove(session: MMOSession) {
 *     for (const chest of this.getProximityItems(session.player, { x: 16, y: 16, z: 0 })) {
 *       this.removeItem(chest);
 *     }
 *   }
 * }
 * ```
 */
export class MMORoom extends Room<{ state: MMOState }> {
  /** The resolved settings (defaults < arena.config.ts < MMO_* environment variables). */
  settings!: MMOSettings;
  /** The world this room serves (the `world` join option). */
  world = DEFAULT_WORLD;
  /** The AoI index: positions of players and items, and what each client sees. */
  protected aoi!: InterestManager<Player, Item>;
  /** Every user in the room by sessionId, limbo and dropped ones included. */
  protected readonly sessions = new Map<string, MMOSession>();
  /** User variables only the server may set (e.g. a score); a client's `vars` naming one is refused. */
  protected readonly serverUserVars = new Set<string>();
  private readonly moving = new Set<MMOSession>();
  private readonly hiddenVars = new Map<string, Map<string, unknown>>();
  private nextItemId = 1;
  private serializer!: FanOutSerializer<MMOState>;
  private persistence?: MMORoomOptions["persistence"];
  /** Returning players' last state, by identity (restored from and saved to the store). */
  private savedPlayers: WorldSnapshot["players"] = {};
  /** True when the world came back from a snapshot (a game then skips its initial spawn). */
  protected restored = false;
  private countedBytes = 0;

  /**
   * Runs in matchmaking before a room is picked: gives `world` its default, so that a client
   * that names no world and one that names "default" share a room, and refuses a bad name.
   */
  static override async onAuth(_token: string, options: Record<string, unknown>, _context: AuthContext) {
    if (options === null || typeof options !== "object") throw new ServerError(400, "join options must be an object");
    const parsed = joinOptionsSchema.shape.world.safeParse(options.world);
    if (!parsed.success) throw new ServerError(400, `bad world: ${describeIssues(parsed.error)}`);
    options.world = parsed.data;
    return true;
  }

  override async onCreate(options: MMORoomOptions = {}): Promise<void> {
    this.settings = resolveSettings(options.settings ?? {}, {});
    this.world = joinOptionsSchema.shape.world.parse(options.world);
    const s = this.settings;
    // Not maxClients: a full (locked) room would make matchmaking open a second room for the
    // same world. onJoin refuses the user over maxUsers instead.
    this.patchRate = s.patchRate;
    this.maxMessagesPerSecond = s.maxMessagesPerSecond;
    this.aoi = new InterestManager<Player, Item>(s.aoi, s.aoiLeaveMargin);

    const state = new MMOState();
    state.aoi = Vec3State.of(s.aoi);
    state.lowerMapLimit = Vec3State.of(s.mapLimits.lower);
    state.higherMapLimit = Vec3State.of(s.mapLimits.higher);
    state.speed = s.speed;
    this.state = state;
    // Per-client patches that cost what each client sees (see FanOutSerializer).
    const stock = (this as unknown as { _serializer: SchemaSerializer<MMOState> })._serializer;
    this.serializer = FanOutSerializer.adopt(stock);
    this.setSerializer(this.serializer);
    liveRooms.add(this);
    void this.setMetadata({ world: this.world });

    this.onValidMessage("position", clientMessages.position, (client, msg, session) => {
      const pos = { x: msg.x, y: msg.y, z: msg.z ?? 0 };
      if (!this.isInsideMap(pos)) {
        return this.sendError(client, MMOErrorCode.OUT_OF_MAP, "position is outside the map limits", "position");
      }
      if (!session.inLimbo && s.maxSpeed > 0 && this.tooFast(session, pos)) {
        return this.sendError(client, MMOErrorCode.TOO_FAST, `faster than ${s.maxSpeed} units/s`, "position");
      }
      this.setUserPosition(client, pos);
    });
    this.onValidMessage("input", clientMessages.input, (client, keys, session) => {
      if (session.inLimbo) return this.sendError(client, MMOErrorCode.IN_LIMBO, "set a position first", "input");
      session.keys = keys;
      if (anyKeyHeld(keys)) this.moving.add(session);
      else this.moving.delete(session);
    });
    this.onValidMessage("chat", clientMessages.chat, (client, { text }, session) => {
      if (session.inLimbo) return this.sendError(client, MMOErrorCode.IN_LIMBO, "set a position first", "chat");
      const message: ChatBroadcast = { from: session.player.id, name: session.player.name, text };
      this.sendToProximity(session.player, "chat", message);
    });
    this.onValidMessage("spawn", clientMessages.spawn, (client, _msg, session) => {
      if (!session.inLimbo) return this.sendError(client, MMOErrorCode.BAD_REQUEST, "already positioned", "spawn");
      this.setUserPosition(client, session.savedPosition ?? this.findFreePosition());
    });
    this.onValidMessage("vars", clientMessages.vars, (client, vars, session) => {
      const readOnly = Object.keys(vars).filter((k) => this.serverUserVars.has(k));
      if (readOnly.length) {
        return this.sendError(client, MMOErrorCode.BAD_REQUEST, `read-only variable: ${readOnly.join(", ")}`, "vars");
      }
      const vs = session.player.vars;
      const added = Object.keys(vars).filter((k) => vars[k] !== null && !vs.has(k)).length;
      const removed = Object.keys(vars).filter((k) => vars[k] === null && vs.has(k)).length;
      if (vs.size + added - removed > VAR_LIMITS.maxKeys) {
        return this.sendError(client, MMOErrorCode.BAD_REQUEST, `at most ${VAR_LIMITS.maxKeys} variables`, "vars");
      }
      applyVars(vs, vars);
    });
    this.onMessage("*", (client: Client, type: string | number) => {
      this.sendError(client, MMOErrorCode.BAD_REQUEST, "unknown message type", String(type ?? "").slice(0, 64));
    });

    this.setTimestep((dt) => this.stepMovement(dt), s.patchRate);

    // Only objects with methods count: join options (JSON) can never pose as a store.
    const p = options.persistence;
    if (p && typeof p.store?.load === "function") {
      this.persistence = p;
      const snapshot = await p.store.load(this.world);
      if (snapshot) this.restoreWorld(snapshot);
      this.clock.setInterval(() => void this.saveWorld(), (p.snapshotSeconds ?? 5) * 1000);
    }
  }

  /**
   * Checks the guest identity when identities are on: a valid `token` join option resumes
   * that player; none gets a new identity; a tampered or foreign one is refused (4401), and
   * an identity already playing in this world cannot join twice (4409).
   */
  override onAuth(_client: Client, options: Record<string, unknown>): GuestAuth | true {
    const signer = this.persistence?.identity;
    if (!signer) return true;
    if (options?.token === undefined) {
      const { id, token } = signer.issue();
      return { playerId: id, issuedToken: token };
    }
    const id = signer.verify(options.token);
    if (!id) throw new ServerError(IDENTITY_INVALID, "invalid identity token");
    for (const other of this.sessions.values()) {
      if (other.identity !== id) continue;
      // A dropped session of the same player (a reload): the new connection takes over.
      if (other.reconnection) other.reconnection.reject(new Error("replaced by a new connection"));
      else throw new ServerError(IDENTITY_IN_USE, "this identity is already playing in this world");
    }
    return { playerId: id };
  }

  override onJoin(client: Client, options: Record<string, unknown> = {}): void {
    const parsed = joinOptionsSchema.safeParse(options);
    if (!parsed.success) throw new ServerError(400, `bad join options: ${describeIssues(parsed.error)}`);
    if (this.sessions.size >= this.settings.maxUsers) {
      throw new ServerError(WORLD_FULL, `world "${this.world}" is full (${this.settings.maxUsers} users)`);
    }
    const player = new Player().assign({ id: client.sessionId, name: this.uniqueName(this.cleanName(parsed.data.name, client.sessionId)) });
    // In the state from the start (a view can only add what the state holds), but in no view until positioned.
    this.state.players.set(client.sessionId, player);
    client.view = new StateView();
    const session: MMOSession = {
      client,
      player,
      inLimbo: true,
      keys: { up: false, down: false, left: false, right: false },
      kicked: false,
    };
    session.limboTimer = this.clock.setTimeout(() => this.expireLimbo(session), this.settings.userMaxLimboSeconds * 1000);
    this.sessions.set(client.sessionId, session);
    this.state.userCount = this.sessions.size;
    const auth = client.auth as GuestAuth | undefined;
    if (auth?.playerId) {
      session.identity = auth.playerId;
      if (auth.issuedToken) client.send("identity", { token: auth.issuedToken });
      const saved = this.savedPlayers[auth.playerId];
      if (saved) {
        // A returning player: their variables (score included) now, their place on `spawn`.
        for (const [k, v] of Object.entries(saved.vars)) player.vars.set(k, v);
        if (this.isInsideMap(saved)) session.savedPosition = { x: saved.x, y: saved.y, z: saved.z };
      }
    }
  }

  override async onDrop(client: Client, code?: number): Promise<void> {
    const session = this.sessions.get(client.sessionId);
    if (code === CloseCode.WITH_ERROR) messagesRejected.inc({ reason: "FLOOD_OR_UNDECODABLE" });
    const refused = code === CloseCode.WITH_ERROR || code === CloseCode.SERVER_SHUTDOWN;
    if (!session || session.kicked || refused || this.settings.reconnectSeconds <= 0) return;
    // The player stays in the world (and in others' views) while its client may come back.
    this.moving.delete(session);
    session.keys = { up: false, down: false, left: false, right: false };
    const reconnection = this.allowReconnection(client, this.settings.reconnectSeconds);
    // Refused while the room is disposing; Colyseus then calls onLeave, which cleans up.
    reconnection.catch(() => {});
    session.reconnection = reconnection;
  }

  override onReconnect(client: Client): void {
    const session = this.sessions.get(client.sessionId);
    if (!session) return;
    session.client = client;
    session.reconnection = undefined;
  }

  override onLeave(client: Client): void {
    const session = this.sessions.get(client.sessionId);
    if (!session) return;
    this.rememberPlayer(session);
    session.limboTimer?.clear();
    this.moving.delete(session);
    this.aoi.removePlayer(session.player);
    this.state.players.delete(client.sessionId);
    this.sessions.delete(client.sessionId);
    client.view?.dispose();
    this.state.userCount = this.sessions.size;
  }

  override onBeforePatch(): void {
    // Each client's AoI is recomputed every proximityUpdateMillis; the clients are spread
    // over the patches in between, so every patch carries an even share of the work.
    const t0 = performance.now();
    this.aoi.updateDue(this.clock.currentTime, this.settings.proximityUpdateMillis, this.applyDiff);
    aoiSeconds.observe((performance.now() - t0) / 1000);
  }

  override broadcastPatch(): boolean {
    const t0 = performance.now();
    const sent = super.broadcastPatch();
    if (sent) patchSeconds.observe((performance.now() - t0) / 1000);
    bytesSent.inc(this.serializer.sentBytes - this.countedBytes);
    this.countedBytes = this.serializer.sentBytes;
    return sent;
  }

  /**
   * Graceful drain (SIGTERM): this process takes no new rooms, clients are told
   * (`server_shutdown {seconds}`), the world keeps running for `drainSeconds`, then the room
   * closes with 4001 and clients rejoin their world, which matchmaking now places on another
   * process.
   */
  override onBeforeShutdown(): void {
    void matchMaker.stats.excludeProcess(matchMaker.processId).catch(() => {});
    void this.saveWorld();
    const seconds = this.settings.drainSeconds;
    if (this.clients.length === 0 || seconds <= 0) {
      void this.disconnect(CloseCode.SERVER_SHUTDOWN);
      return;
    }
    void this.lock();
    this.broadcast("server_shutdown", { seconds });
    this.clock.setTimeout(() => void this.disconnect(CloseCode.SERVER_SHUTDOWN), seconds * 1000);
  }

  override async onDispose(): Promise<void> {
    liveRooms.delete(this);
    await this.saveWorld();
  }

  /** The world as a snapshot: items with their hidden variables, and players by identity. */
  snapshot(): WorldSnapshot {
    for (const session of this.sessions.values()) this.rememberPlayer(session);
    const items: SavedItem[] = [];
    this.state.items.forEach((item) => {
      items.push({
        id: item.id,
        kind: item.kind,
        x: item.x,
        y: item.y,
        z: item.z,
        vars: Object.fromEntries(item.vars.entries()),
        hidden: Object.fromEntries(this.hiddenVars.get(item.id) ?? []),
      });
    });
    const players = Object.entries(this.savedPlayers);
    if (players.length > MAX_SAVED_PLAYERS) {
      players.sort((a, b) => b[1].seenAt - a[1].seenAt);
      this.savedPlayers = Object.fromEntries(players.slice(0, MAX_SAVED_PLAYERS));
    }
    return { version: 1, savedAt: Date.now(), nextItemId: this.nextItemId, items, players: { ...this.savedPlayers } };
  }

  /** Writes the snapshot to the store (every few seconds, on drain and on dispose). */
  async saveWorld(): Promise<void> {
    const store = this.persistence?.store;
    if (!store) return;
    try {
      await store.save(this.world, this.snapshot());
    } catch (e) {
      logger.error(`[mmo ${this.world}] could not save the world:`, e);
    }
  }

  private restoreWorld(snapshot: WorldSnapshot): void {
    for (const saved of snapshot.items) {
      const p = { x: saved.x, y: saved.y, z: saved.z };
      if (!this.isInsideMap(p)) continue;
      const item = new Item().assign({ id: saved.id, kind: saved.kind, ...p });
      applyVars(item.vars, saved.vars);
      this.hiddenVars.set(item.id, new Map(Object.entries(saved.hidden ?? {})));
      this.state.items.set(item.id, item);
      this.aoi.placeItem(item, p);
    }
    this.nextItemId = Math.max(this.nextItemId, snapshot.nextItemId);
    this.savedPlayers = { ...snapshot.players };
    this.restored = true;
  }

  private rememberPlayer(session: MMOSession): void {
    if (!session.identity) return;
    const { player } = session;
    const previous = this.savedPlayers[session.identity];
    const at = session.inLimbo ? (session.savedPosition ?? previous) : player;
    if (!at) return;
    this.savedPlayers[session.identity] = {
      name: player.name,
      x: at.x,
      y: at.y,
      z: at.z,
      vars: Object.fromEntries(player.vars.entries()),
      seenAt: Date.now(),
    };
  }

  /** Users still in limbo (no position yet). */
  limboCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.inLimbo) n++;
    return n;
  }

  override onUncaughtException(error: Error, methodName: string): void {
    logger.error(`[mmo ${this.roomId}] ${methodName}:`, error);
  }

  // ---------------------------------------------------------------------------------------
  // Server-side API for game code
  // ---------------------------------------------------------------------------------------

  /**
   * Recomputes every client's AoI now and turns the differences into StateView add/remove,
   * which reach the clients with the next patch. Runs by itself every `proximityUpdateMillis`.
   */
  updateProximity(): void {
    this.aoi.update(this.applyDiff);
  }

  /**
   * SetUserPosition: places a user's player. The first call takes the user out of limbo: the
   * player becomes visible to others at their next proximity update, and sees its own AoI
   * with the next patch.
   *
   * @throws RangeError if `pos` is outside the map limits or not finite.
   * @example
   * ```typescript
   * onJoin(client) { super.onJoin(client); this.setUserPosition(client, this.findFreePosition()); }
   * ```
   */
  setUserPosition(client: Client | string, pos: { x: number; y: number; z?: number }): void {
    const session = this.sessions.get(typeof client === "string" ? client : client.sessionId);
    if (!session) throw new Error(`no user ${typeof client === "string" ? client : client.sessionId} in this room`);
    const p = this.checkedPosition(pos);
    const { player } = session;
    player.x = p.x;
    player.y = p.y;
    player.z = p.z;
    this.aoi.placePlayer(player, p);
    session.movedAt = this.clock.currentTime;
    if (session.inLimbo) {
      session.inLimbo = false;
      session.limboTimer?.clear();
      session.limboTimer = undefined;
      session.client.view?.add(player);
      this.aoi.update(this.applyDiff, player);
    }
    this.onPlayerMove(session);
  }

  /**
   * Adds an item (SmartFoxServer's MMOItem) at `pos`. `publicVars` reach the clients that see
   * it; `hiddenVars` never leave the server.
   *
   * @example
   * ```typescript
   * const gem = this.addItem("gem", { x: 120, y: 80 }, { value: "5" }, { spawnedAt: Date.now() });
   * ```
   */
  addItem(kind: string, pos: { x: number; y: number; z?: number }, publicVars: PublicVars = {}, hiddenVars: Record<string, unknown> = {}): Item {
    const p = this.checkedPosition(pos);
    const item = new Item().assign({ id: `i${this.nextItemId++}`, kind, x: p.x, y: p.y, z: p.z });
    applyVars(item.vars, publicVars);
    this.hiddenVars.set(item.id, new Map(Object.entries(hiddenVars)));
    this.state.items.set(item.id, item);
    this.aoi.placeItem(item, p);
    return item;
  }

  /** Moves an item; clients that see it get the new position with the next patch. */
  setItemPosition(item: Item | string, pos: { x: number; y: number; z?: number }): void {
    const it = this.requireItem(item);
    const p = this.checkedPosition(pos);
    it.x = p.x;
    it.y = p.y;
    it.z = p.z;
    this.aoi.placeItem(it, p);
  }

  /**
   * Sets (string) or deletes (null) a user's variables from the server, read-only ones
   * included. They reach the clients that see the player.
   *
   * @example
   * ```typescript
   * this.serverUserVars.add("score");
   * this.setUserVariables(client, { score: "10" });
   * ```
   */
  setUserVariables(client: Client | string, vars: PublicVars): void {
    const session = this.getSession(client);
    if (!session) throw new Error(`no user ${typeof client === "string" ? client : client.sessionId} in this room`);
    applyVars(session.player.vars, vars);
  }

  /** Sets (string) or deletes (null) an item's public variables. */
  setItemVariables(item: Item | string, vars: PublicVars): void {
    applyVars(this.requireItem(item).vars, vars);
  }

  /** Sets (a value) or deletes (undefined) an item's server-only variables. */
  setItemHiddenVariables(item: Item | string, vars: Record<string, unknown>): void {
    const hidden = this.hiddenVars.get(this.requireItem(item).id)!;
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) hidden.delete(k);
      else hidden.set(k, v);
    }
  }

  /** An item's server-only variables (never in the state). */
  getItemHiddenVariables(item: Item | string): ReadonlyMap<string, unknown> {
    return this.hiddenVars.get(this.requireItem(item).id)!;
  }

  /** Removes an item from the world; clients that saw it get a remove. */
  removeItem(item: Item | string): boolean {
    const it = typeof item === "string" ? this.state.items.get(item) : item;
    if (!it || this.state.items.get(it.id) !== it) return false;
    this.aoi.removeItem(it);
    this.state.items.delete(it.id);
    this.hiddenVars.delete(it.id);
    return true;
  }

  getItemById(id: string): Item | undefined {
    return this.state.items.get(id);
  }

  /**
   * Positioned players inside the box around a player, client or point (default: the AoI).
   * Centred on a player, that player is not in the list.
   *
   * @example
   * ```typescript
   * const nearby = this.getProximityList(client, { x: 64, y: 64, z: 0 });
   * ```
   */
  getProximityList(center: ProximityCenter, aoi: Vec3 = this.settings.aoi): Player[] {
    const self = this.playerOf(center);
    const pos = this.centerOf(center);
    if (!pos) return [];
    return this.aoi.playersNear(pos, aoi).filter((p) => p !== self);
  }

  /** Items inside the box around a player, client or point (default: the AoI). */
  getProximityItems(center: ProximityCenter, aoi: Vec3 = this.settings.aoi): Item[] {
    const pos = this.centerOf(center);
    return pos ? this.aoi.itemsNear(pos, aoi) : [];
  }

  /**
   * Sends a message to every connected, positioned user inside the box around `center`
   * (default: the AoI), the sender included when `center` is a player. Returns how many got it.
   *
   * @example
   * ```typescript
   * this.sendToProximity(client, "explosion", { x: 10, y: 20 }, { x: 100, y: 100, z: 0 });
   * ```
   */
  sendToProximity(center: ProximityCenter, type: string, message: unknown, aoi: Vec3 = this.settings.aoi): number {
    const pos = this.centerOf(center);
    if (!pos) return 0;
    let sent = 0;
    for (const player of this.aoi.playersNear(pos, aoi)) {
      const session = this.sessions.get(player.id);
      if (!session || session.reconnection) continue;
      session.client.send(type, message);
      sent++;
    }
    return sent;
  }

  /**
   * A random position inside the map limits with no player or item within `clearance`
   * (the best of `attempts` tries if the map is crowded).
   */
  findFreePosition(clearance = 32, attempts = 32): Vec3 {
    const { lower, higher } = this.settings.mapLimits;
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

  /** True when `pos` is inside the map limits. */
  isInsideMap(pos: Vec3): boolean {
    const { lower, higher } = this.settings.mapLimits;
    return (
      pos.x >= lower.x && pos.x <= higher.x && pos.y >= lower.y && pos.y <= higher.y && pos.z >= lower.z && pos.z <= higher.z
    );
  }

  /** The session of a user, by client or sessionId. */
  getSession(client: Client | string): MMOSession | undefined {
    return this.sessions.get(typeof client === "string" ? client : client.sessionId);
  }

  /**
   * Called after a player's position changed (a `position` message, key-state movement or
   * `setUserPosition`). Override it for game rules such as picking up items.
   */
  protected onPlayerMove(_session: MMOSession): void {}

  /** Sends the `error` message. */
  protected sendError(client: Client, code: MMOErrorCode, message: string, request?: string): void {
    const payload: MMOError = { code, message, request };
    messagesRejected.inc({ reason: code });
    client.send("error", payload);
  }

  // ---------------------------------------------------------------------------------------

  /** Registers a handler that runs only on a valid payload from a known user. */
  private onValidMessage<S extends z.ZodType>(
    type: string,
    schema: S,
    handler: (client: Client, message: z.output<S>, session: MMOSession) => void,
  ): void {
    this.onMessage(type, (client: Client, raw: unknown) => {
      const session = this.sessions.get(client.sessionId);
      if (!session) return;
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        return this.sendError(client, MMOErrorCode.BAD_REQUEST, describeIssues(parsed.error), type);
      }
      handler(client, parsed.data, session);
    });
  }

  private readonly applyDiff = (observer: Player, players: ProximityDiff<Player>, items: ProximityDiff<Item>): void => {
    const view = this.sessions.get(observer.id)?.client.view;
    if (!view) return;
    for (const p of players.left) view.remove(p);
    for (const i of items.left) view.remove(i);
    for (const p of players.entered) view.add(p);
    for (const i of items.entered) view.add(i);
  };

  private stepMovement(dtMs: number): void {
    const { speed, mapLimits } = this.settings;
    for (const session of this.moving) {
      const { player } = session;
      const next = stepPosition(player, session.keys, speed, dtMs, mapLimits.lower, mapLimits.higher);
      if (next.x === player.x && next.y === player.y) continue;
      player.x = next.x;
      player.y = next.y;
      this.aoi.placePlayer(player, next);
      this.onPlayerMove(session);
    }
  }

  private expireLimbo(session: MMOSession): void {
    session.limboTimer = undefined;
    if (!session.inLimbo) return;
    session.kicked = true;
    if (session.reconnection) {
      session.reconnection.reject(new Error("limbo timeout"));
      return;
    }
    this.sendError(session.client, MMOErrorCode.LIMBO_TIMEOUT, `no position within ${this.settings.userMaxLimboSeconds} s`);
    session.client.leave(CLOSE_LIMBO_TIMEOUT, "LIMBO_TIMEOUT");
  }

  private checkedPosition(pos: { x: number; y: number; z?: number }): Vec3 {
    const p = { x: pos.x, y: pos.y, z: pos.z ?? 0 };
    if (![p.x, p.y, p.z].every(Number.isFinite)) throw new RangeError("position must be finite numbers");
    if (!this.isInsideMap(p)) throw new RangeError(`position ${p.x},${p.y},${p.z} is outside the map limits`);
    return p;
  }

  private requireItem(item: Item | string): Item {
    const it = typeof item === "string" ? this.state.items.get(item) : item;
    if (!it || !this.hiddenVars.has(it.id)) throw new Error(`no item ${typeof item === "string" ? item : item.id}`);
    return it;
  }

  private playerOf(center: ProximityCenter): Player | undefined {
    if (center instanceof Player) return center;
    if ("sessionId" in center) return this.sessions.get(center.sessionId)?.player;
    return undefined;
  }

  /** The point a query is centred on; undefined for a player still in limbo. */
  private centerOf(center: ProximityCenter): Vec3 | undefined {
    const player = this.playerOf(center);
    if (player) return this.aoi.players.position(player);
    return center as Vec3;
  }

  /**
   * True when going to `pos` would take the player faster than `maxSpeed` since its last
   * position (the first position, out of limbo, is an entry point and always allowed). A
   * small allowance covers network jitter.
   */
  private tooFast(session: MMOSession, pos: Vec3): boolean {
    const now = this.clock.currentTime;
    // At least one patch (jitter), at most one second: idling earns no teleport.
    const elapsed = Math.min(1000, Math.max(this.settings.patchRate, now - (session.movedAt ?? now))) / 1000;
    const { player } = session;
    const distance = Math.hypot(pos.x - player.x, pos.y - player.y, pos.z - player.z);
    return distance > this.settings.maxSpeed * elapsed + 1;
  }

  /** `name`, or `name-2`, `name-3`... when someone in this world already has it. */
  private uniqueName(name: string): string {
    const taken = new Set([...this.sessions.values()].map((s) => s.player.name.toLowerCase()));
    if (!taken.has(name.toLowerCase())) return name;
    for (let i = 2; ; i++) {
      const suffix = `-${i}`;
      const candidate = `${name.slice(0, NAME_MAX_LENGTH - suffix.length)}${suffix}`;
      if (!taken.has(candidate.toLowerCase())) return candidate;
    }
  }

  private cleanName(name: string | undefined, sessionId: string): string {
    // eslint-disable-next-line no-control-regex
    const clean = (name ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, NAME_MAX_LENGTH);
    return clean || `guest-${sessionId.slice(0, 4)}`;
  }
}

function applyVars(target: { set(k: string, v: string): unknown; delete(k: string): unknown }, vars: PublicVars): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === null) target.delete(k);
    else target.set(k, v);
  }
}

