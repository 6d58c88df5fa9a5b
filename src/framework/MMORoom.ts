import { type AuthContext, type Client, CloseCode, type Delayed, type IRoomCache, ServerError, matchMaker } from "@colyseus/core";
import { Encoder, StateView } from "@colyseus/schema";
import { aoiSeconds, bytesSent, handoffs, liveRooms, messagesRejected, patchSeconds } from "../ops/metrics";
import { roomBudget } from "../ops/roomBudget";
import { creatorOf, roomsPerAddress, stampCreator } from "../ops/roomsPerAddress";
import { logRoomError, refusedJoin } from "../ops/roomLog";
import { CloseCodes, JoinErrorCodes, MMOErrorCode } from "../shared/codes";
import type { WorldListing } from "../shared/lobby";
import { describeIssues, joinOptionsSchema } from "../shared/protocol";
import { type Item, type MMOState, Player } from "../shared/schema";
import { readVars } from "../shared/vars";
import type { GhostBatch } from "../regions/Ghosts";
import { Ghosts, ghostMargin } from "../regions/Ghosts";
import { type HandoffAuth, type HandoffFinal, type HandoffPayload, handoffContext, handoffIn, isHandoffAuth } from "../regions/handoff";
import { RegionGrid, type RegionName } from "../regions/RegionGrid";
import { RegionLink } from "../regions/RegionLink";
import { type MessageContext, registerMessageHandlers } from "./messages";
import { MMOApi } from "./MMOApi";
import { Movement } from "./Movement";
import { PlayerMemory } from "./PlayerMemory";
import { PlayingIdentities } from "./PlayingIdentities";
import { addressOf, rememberClientAddress } from "./clientAddress";
import { holdSeconds, releasedFor } from "./ReconnectionHolds";
import { WorldNames } from "./WorldNames";
import type { WorldSnapshot } from "./persistence/WorldStore";
import { colyseusInternals } from "./serializer/colyseusInternals";
import { FanOutSerializer } from "./serializer/FanOutSerializer";
import { chooseSerializer } from "./serializer/selfCheck";
import { type GuestAuth, type MMOSession, Sessions, limboCap } from "./Sessions";
import { type MMOSettings, type MMOSettingsInput, parseSettings } from "./settings";
import { World, applyVars } from "./World";
import type { Vec3 } from "../shared/vector";
import type { VarValue } from "../shared/wire";
import type { WorldRegistry } from "./worlds";
import { type PersistenceOptions, WorldKeeper, restoreSnapshot, takeSnapshot } from "./worldSnapshot";
import { type LockState, WorldLock } from "./WorldLock";

// Big rooms send big full states on join; the default 8 KiB buffer grows by reallocation.
Encoder.BUFFER_SIZE = Math.max(Encoder.BUFFER_SIZE, 256 * 1024);

/**
 * The room's listing metadata (matchmaking's cache, `/monitor` columns, the lobby): its world,
 * title and counts. `maxClients` is not the limit (see onCreate), `maxUsers` is.
 */
export type { WorldListing } from "../shared/lobby";

/** Count changes reach the listing (the matchmaking driver, Redis in a cluster) at most this often. */
export const LISTING_REFRESH_MS = 500;

/** A ghost no batch refreshed for this long is dropped (its region stopped sending: a dead process). */
const GHOST_TTL_MS = 1500;
/**
 * A room nobody is in for this long closes (saving its part of the world): no user (limbo and
 * dropped players waiting to reconnect included), no neighbour's ghost, no handoff on its way
 * here, no join in progress and no seat reserved since the last check. A world created by a
 * matchmaking call whose seat is never used, or that everyone left, costs memory for seconds.
 */
const EMPTY_ROOM_MS = 5_000;
/** How often a room checks whether it is empty. */
const EMPTY_CHECK_MS = 1_000;
/** After a handoff, a player is handed on again no sooner than this (a teleporting client's handoff storm). */
const HANDOFF_COOLDOWN_MS = 1000;
/** A failed handoff is retried after this long. */
const HANDOFF_RETRY_MS = 1000;
/** An offered handoff the client did not take is offered again after this long (past the seat reservation's expiry). */
const HANDOFF_RESERVATION_MS = 16_000;
/** How long a draining region waits for a live process to create its region's new room (the world's load included). */
const DRAIN_RESERVE_MS = 10_000;

/** `next` as changes over `current`: every name of `current` that `next` lacks is deleted (null). */
function varsReplacing(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, VarValue | null> {
  const out: Record<string, VarValue | null> = {};
  for (const name of Object.keys(current)) if (!(name in next)) out[name] = null;
  return Object.assign(out, next) as Record<string, VarValue | null>;
}

/** Options the room is created with: `settings` from arena.config.ts, `world` from the client. */
export interface MMORoomOptions {
  world?: string;
  /** The region of a world split into regions (`regionSize`): "" is the entry region. */
  region?: string;
  /** Resolved once by `resolveSettings` (arena.config.ts); the room only validates them. */
  settings?: MMOSettings | MMOSettingsInput;
  /**
   * Worlds with their own settings (arena.config.ts): when given, the world's settings and
   * title come from it (not `settings`), and a world it refuses is refused (404, UNKNOWN_WORLD).
   */
  worlds?: WorldRegistry;
  /** Where worlds are kept, and who signs guest identities (arena.config.ts sets both). */
  persistence?: PersistenceOptions;
}

/**
 * An MMO room with SmartFoxServer MMORoom semantics, the Colyseus way: every client holds a
 * StateView of exactly the players and items inside its Area of Interest, and learns about
 * entities entering and leaving it through ordinary schema add/remove patches. This class
 * adapts Colyseus's lifecycle (the game-facing API is its base, `MMOApi`) to small parts:
 * `World`, `Sessions`, `Movement`, `messages.ts`, `worldSnapshot.ts`, `WorldLock`.
 *
 * Extend it for your game: override `onCreate` (await `super.onCreate(options)` first), use
 * the server-side API (`addItem`, `getProximityList`, `sendToProximity`, ...) and the
 * `onPlayerMove` hook.
 *
 * @example
 * ```typescript
 * class TreasureRoom extends MMORoom {
 *   override async onCreate(options: MMORoomOptions) {
 *     await super.onCreate(options);
 *     if (!this.restored) for (let i = 0; i < 100; i++) this.addItem("chest", this.findFreePosition(), { gold: "10" }, { trap: Math.random() < 0.1 });
 *   }
 *   protected override onPlayerMove(session: MMOSession) {
 *     for (const chest of this.getProximityItems(session.player, { x: 16, y: 16, z: 0 })) this.removeItem(chest);
 *   }
 * }
 * ```
 */
export class MMORoom extends MMOApi {
  /** True when the world came back from a snapshot (a game then skips its initial spawn). */
  protected restored = false;
  private movement!: Movement;
  private memory!: PlayerMemory;
  private keeper?: WorldKeeper;
  private worldLock?: WorldLock;
  private playing?: PlayingIdentities;
  private worldNames?: WorldNames;
  private closing = false;
  private budgetTaken = false;
  private signer?: PersistenceOptions["identity"];
  private countedBytes = 0;
  private sentBytes = () => 0;
  private listingTimer?: Delayed;
  private listed = "";
  /** The world's title (the worlds table's; its name when it has none). */
  title = "";
  /**
   * Set once a draining region room has handed its part of the world on (last save written,
   * lock released, ghost link stopped): a new room of this region has it, and nothing more is
   * saved, sent or handed from here while its players switch over.
   */
  private handedOn = false;
  /** This room's region ("" : the entry region, or the whole world when it is not split). */
  region: RegionName = "";
  /** Set when the world is split into regions: the grid, the border ghosts and the link to the neighbours. */
  protected regions?: { grid: RegionGrid; ghosts: Ghosts; link: RegionLink };
  /** Nobody in the room since then (room clock ms; see EMPTY_ROOM_MS). */
  private emptySince = 0;
  /** Seats reserved at the last empty check: a new one keeps the room another EMPTY_ROOM_MS. */
  private seenSeats = new Set<string>();
  /** Gives back the quota place of the address that created this room (none for the server's own rooms). */
  private releaseCreator = () => {};
  private nextCountRefresh = 0;

  /**
   * Runs in matchmaking before a room is picked: validates the join options, gives `world` its
   * default (so "" and "default" share a room), and keeps only the validated options: they
   * are what stays with the seat reservation.
   */
  static override async onAuth(_token: string, options: Record<string, unknown>, context: AuthContext) {
    // A neighbouring region hands a player over (server-side only: see regions/handoff.ts).
    const handoff = handoffIn(context);
    if (handoff) return handoff;
    if (options === null || typeof options !== "object") throw refusedJoin(JoinErrorCodes.BAD_OPTIONS, "join options must be an object");
    const parsed = joinOptionsSchema.safeParse(options);
    if (!parsed.success) throw refusedJoin(JoinErrorCodes.BAD_OPTIONS, `bad join options: ${describeIssues(parsed.error)}`);
    for (const key of Object.keys(options)) delete options[key];
    Object.assign(options, Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)));
    // If this call creates the room, it is charged to this address (src/ops/roomsPerAddress.ts).
    stampCreator(options, context);
    return true;
  }

  override async onCreate(options: MMORoomOptions = {}): Promise<void> {
    this.world = joinOptionsSchema.shape.world.parse(options.world);
    // Settings come from the server's worlds (never from the client: onAuth kept only world, name, token).
    const declared = options.worlds ? await options.worlds.resolve(this.world) : undefined;
    if (options.worlds && !declared) throw refusedJoin(JoinErrorCodes.UNKNOWN_WORLD, `unknown world "${this.world}": this server joins only the worlds it declares`);
    const s = (this.settings = declared?.settings ?? parseSettings(options.settings));
    this.title = declared?.title ?? this.world;
    this.region = joinOptionsSchema.shape.region.parse(options.region);
    const grid = new RegionGrid(s.mapLimits, s.regionSize);
    if (!grid.has(this.region)) throw refusedJoin(JoinErrorCodes.BAD_OPTIONS, `world "${this.world}" has no region "${this.region}" (${grid.cols}x${grid.rows} regions)`);
    // The creator's quota first: an address at its quota takes no place of the process's budget.
    this.releaseCreator = roomsPerAddress.charge(creatorOf(options), this.roomName ?? "mmo");
    roomBudget.acquire(this.roomName ?? "mmo");
    this.budgetTaken = true;
    // (A failed onCreate, a world lock refused with 409, is disposed by Colyseus: onDispose gives
    // the budget place back; test/room.regions.faults.test.ts checks it.)
    // Not maxClients: a full (locked) room would make matchmaking open a second room for the
    // same world. onJoin refuses the user over maxUsers instead.
    this.patchRate = s.patchRate;
    this.maxMessagesPerSecond = s.maxMessagesPerSecond;
    this.state = World.createState(s);
    this.entities = new World(this.state, s);
    this.sessions = new Sessions(this.clock);
    this.memory = new PlayerMemory(this.userVarDefaults, s.savedPlayersBytes, (player) => this.state.privateVars.get(player.id));
    this.movement = new Movement(this.entities, s, (session) => this.onPlayerMove(session));
    const serializer = chooseSerializer(s.serializer, colyseusInternals.serializerOf<MMOState>(this));
    if (serializer instanceof FanOutSerializer) this.sentBytes = () => serializer.sentBytes;
    this.setSerializer(serializer);
    liveRooms.add(this);
    void this.setMetadata(this.listingMetadata());
    registerMessageHandlers(this, this.messageContext());

    // One live room per world (per region), cluster-wide; a closing one is waited for (its final save).
    this.worldLock = new WorldLock(this.presence, this.storeKey(), this.roomId);
    await this.worldLock.acquire(WorldLock.WAIT_MS);
    if (!grid.single) await this.joinRegions(grid);
    this.playing = new PlayingIdentities(this.presence, this.world, this.roomId);
    this.clock.setInterval(() => {
      void this.worldLock?.refresh().catch(() => {});
      void this.playing?.refresh(WorldLock.TTL_SECONDS).catch(() => {});
    }, (WorldLock.TTL_SECONDS * 1000) / 3);

    if (WorldKeeper.accepts(options.persistence)) {
      this.signer = options.persistence.identity;
      this.keeper = new WorldKeeper(options.persistence, this.storeKey(), () => this.snapshot(), () => this.entities.entered);
      const saved = await this.keeper.start(this.clock);
      if (saved) restoreSnapshot(this.entities, this.memory, saved);
      this.restored = saved !== undefined;
    }
    // From here on, not before: the clock runs during the awaits above (a lock wait, a load).
    this.emptySince = this.clock.currentTime;
    this.clock.setInterval(() => this.closeIfEmpty(), EMPTY_CHECK_MS);
  }

  /**
   * Guest identities: a valid `token` resumes that player, none gets a new one, a bad one is
   * refused (4401), and so is an identity already playing this world, here or in another
   * room of the cluster (4409).
   */
  override async onAuth(client: Client, options: Record<string, unknown>, context?: AuthContext): Promise<GuestAuth | HandoffAuth | true> {
    rememberClientAddress(client, context);
    if (isHandoffAuth(client.auth)) return client.auth;
    if (!this.signer) return true;
    const auth = this.sessions.authenticate(this.signer, options?.token);
    if (!auth.issuedToken) await this.playing?.admit(auth.playerId);
    return auth;
  }

  /**
   * A user joins (in limbo until its first position), or a neighbouring region hands a player
   * over. A game that overrides it awaits it: `await super.onJoin(client, options)` (a handoff
   * waits for the old region's confirmation before the player exists here).
   */
  override async onJoin(client: Client, options: Record<string, unknown> = {}): Promise<void> {
    if (isHandoffAuth(client.auth)) return this.joinFromHandoff(client, client.auth.handoff);
    const parsed = joinOptionsSchema.safeParse(options);
    if (!parsed.success) throw new ServerError(JoinErrorCodes.BAD_OPTIONS, `bad join options: ${describeIssues(parsed.error)}`);
    const { maxUsers, userMaxLimboSeconds, maxLimboShare } = this.settings;
    const name = await this.joiningName(client.sessionId, parsed.data.name);
    let evict: MMOSession | undefined;
    try {
      evict = this.sessions.placeFor(maxUsers, limboCap(maxUsers, maxLimboShare), this.world);
    } catch (error) {
      void this.names?.release(client.sessionId, name).catch(() => {});
      throw error;
    }
    if (evict) this.kickFromLimbo(evict, "made room for a joining player");
    const player = new Player().assign({ id: client.sessionId, name });
    // In the state from the start (a view can only add what the state holds), but in no view until positioned.
    this.entities.addPlayer(player);
    client.view = new StateView();
    // Its private variables: in this client's view only, from the start (limbo included).
    client.view.add(this.entities.privateVarsOf(player));
    const session = this.sessions.open(client, player, userMaxLimboSeconds, (s) => this.expireLimbo(s));
    session.address = addressOf(client);
    this.state.userCount = this.sessions.size;
    this.usersChanged();
    const auth = client.auth as GuestAuth | undefined;
    if (!auth?.playerId) return;
    session.identity = auth.playerId;
    void this.playing?.enter(auth.playerId, WorldLock.TTL_SECONDS).catch(() => {});
    if (auth.issuedToken) client.send("identity", { token: auth.issuedToken });
    const saved = this.memory.recall(auth.playerId);
    if (saved) {
      // A returning player: their variables (score included) now, their place on `spawn`.
      applyVars(player.vars, saved.vars);
      if (saved.privateVars) applyVars(this.entities.privateVarsOf(player), saved.privateVars);
      if (this.entities.isInsideMap(saved)) {
        session.savedPosition = { x: saved.x, y: saved.y, z: saved.z };
        session.savedAt = saved.seenAt;
      }
    }
  }

  override async onDrop(client: Client, code?: number): Promise<void> {
    const session = this.sessions.get(client);
    // Colyseus closes with 4002 both a flooder and the stale socket of a client that reconnects
    // over a half-open connection: only the flooder is refused its reconnection.
    const flooded = code === CloseCode.WITH_ERROR && colyseusInternals.wasCutForFlooding(client, this.maxMessagesPerSecond);
    if (flooded) messagesRejected.inc({ reason: "FLOOD" });
    const refused = flooded || code === CloseCode.SERVER_SHUTDOWN;
    if (!session || session.kicked || refused || this.settings.reconnectSeconds <= 0) return;
    // The player stays in the world (and in others' views) while its client may come back:
    // briefly if it never played, and never more than the caps allow (ReconnectionHolds).
    this.movement.stop(session);
    for (const released of releasedFor(session, this.sessions.values(), this.settings)) {
      released.kicked = true;
      released.reconnection?.reject(new Error("too many players held for reconnection"));
    }
    const reconnection = this.allowReconnection(client, holdSeconds(session, this.settings));
    // Refused while the room is disposing; Colyseus then calls onLeave, which cleans up.
    reconnection.catch(() => {});
    session.reconnection = reconnection;
    session.heldSince = this.clock.currentTime;
  }

  override onReconnect(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    session.client = client;
    session.reconnection = undefined;
    session.heldSince = undefined;
  }

  override onLeave(client: Client): void {
    const session = this.sessions.get(client);
    // No session, or a newer one under the same sessionId (a player handed back here before
    // its old connection's close arrived): nothing of this connection is left to clean up.
    if (!session || session.client !== client) return;
    if (session.handoff?.done && this.regions) return this.leaveAfterHandoff(client, session);
    this.memory.remember(session);
    if (session.identity) void this.playing?.leave(session.identity).catch(() => {});
    // Left the world (not handed on: that returned above): its name is free again, world-wide.
    void this.names?.release(session.player.id, session.player.name).catch(() => {});
    this.movement.stop(session);
    this.entities.removePlayer(session.player);
    this.sessions.close(session);
    client.view?.dispose();
    this.state.userCount = this.sessions.size;
    this.usersChanged();
  }

  override onBeforePatch(): void {
    // Key movement is stepped right before each patch (not on a timer of its own, whose phase
    // drifts against the patch timer's and put 0 or 2 steps in a patch): every patch carries
    // exactly the motion up to when it is sent, which is what clients interpolate.
    this.movement.step();
    // Each client's AoI is recomputed every proximityUpdateMillis; the clients are spread
    // over the patches in between, so every patch carries an even share of the work.
    const t0 = performance.now();
    this.entities.aoi.updateDue(this.clock.currentTime, this.settings.proximityUpdateMillis, this.applyDiff);
    if (this.regions && !this.handedOn) {
      // An error here would escape Colyseus's patch timer and stop the room (then the process):
      // one region's bad batch or handoff is logged, and the patch goes out.
      try {
        this.regionStep();
      } catch (error) {
        logRoomError(`mmo ${this.world}/${this.region}`, error as Error, "regionStep");
      }
    }
    aoiSeconds.observe((performance.now() - t0) / 1000);
  }

  override broadcastPatch(): boolean {
    const t0 = performance.now();
    const sent = super.broadcastPatch();
    if (sent) patchSeconds.observe((performance.now() - t0) / 1000);
    // Once per patch, to key-moving players only (client prediction's reconciliation).
    this.movement.acks((session, ack) => !session.reconnection && session.client.send("ack", ack));
    bytesSent.inc(this.sentBytes() - this.countedBytes);
    this.countedBytes = this.sentBytes();
    return sent;
  }

  /**
   * Graceful drain (SIGTERM): this process takes no new rooms, clients are told
   * (`server_shutdown {seconds}`), the world runs for `drainSeconds`, then the room closes
   * with 4001 and clients rejoin their world, which matchmaking now places elsewhere.
   *
   * A region of a split world is handed on instead, when another process is live: its players
   * are handed over to their region's new room there, as at a border (`drainByHandoff`), and
   * see no notice and no rejoin. Players it cannot hand over get the notice and the 4001.
   */
  override onBeforeShutdown(): void {
    this.closing = true;
    void this.worldLock?.markClosing().catch(() => {});
    void matchMaker.stats.excludeProcess(matchMaker.processId).catch(() => {});
    const seconds = this.settings.drainSeconds;
    if (this.clients.length === 0 || seconds <= 0) {
      void this.saveWorld();
      return void this.disconnect(CloseCode.SERVER_SHUTDOWN);
    }
    void this.lock();
    this.clock.setTimeout(() => void this.disconnect(CloseCode.SERVER_SHUTDOWN), seconds * 1000);
    if (this.regions) return void this.drainByHandoff(seconds);
    void this.saveWorld();
    this.broadcast("server_shutdown", { seconds });
  }

  /**
   * A draining region's players go on in their region's new room on a live process, handed
   * over as at a border: the last save here, then the lock (so the new room loads what this one
   * saved), then the region's new room, created on the process matchmaking picks (asked
   * directly: this one, shutting down, would create it locally), one seat per player in it,
   * and a `handoff` to each client. The room closes as soon as the last has switched. With no other process, or for a player in limbo, on its way
   * to a neighbour or reconnecting, it is the notice and the 4001 rejoin.
   */
  private async drainByHandoff(seconds: number): Promise<void> {
    const notice = (session: MMOSession) => !session.reconnection && session.client.send("server_shutdown", { seconds });
    const options = { world: this.world, region: this.region };
    // A live process for the region's new room (this one no longer counts: excluded first).
    await matchMaker.stats.excludeProcess(matchMaker.processId).catch(() => {});
    const target = await matchMaker.selectProcessIdToCreateRoom(this.roomName, options).catch(() => undefined);
    if (!target || target === matchMaker.processId) {
      void this.saveWorld();
      return this.broadcast("server_shutdown", { seconds });
    }
    this.handedOn = true;
    await this.regions?.link.stop().catch(() => {});
    await this.keeper?.handOn();
    await this.worldLock?.release().catch(() => {});
    const movers: MMOSession[] = [];
    for (const session of this.sessions.values()) {
      if (session.inLimbo || session.reconnection || session.kicked || session.handoff) notice(session);
      else movers.push(session);
    }
    let room: IRoomCache | undefined;
    try {
      room = await colyseusInternals.createRoomOnProcess(target, this.roomName, options, DRAIN_RESERVE_MS);
    } catch (error) {
      // Created meanwhile by a join elsewhere (the lock refused a second one): that room, then.
      room = await matchMaker.findOneRoomAvailable(this.roomName, options).catch(() => undefined);
      if (!room) logRoomError(`mmo ${this.world}/${this.region}`, error as Error, "drain handoff");
    }
    const offer = async (session: MMOSession): Promise<void> => {
      session.handoff = { to: this.region, since: this.clock.currentTime, done: false };
      try {
        if (!room) throw new Error("no room to hand over to");
        const reservation = await matchMaker.reserveSeatFor(room, options, handoffIn(handoffContext(this.handoffPayload(session))));
        if (this.sessions.get(session.player.id) !== session || session.reconnection) return;
        session.client.send("handoff", { region: this.region, reservation });
        handoffs.inc({ result: "offered" });
      } catch (error) {
        handoffs.inc({ result: "failed" });
        if (room) logRoomError(`mmo ${this.world}/${this.region}`, error as Error, "drain handoff");
        notice(session);
      }
    };
    await Promise.all(movers.map(offer));
  }

  override async onDispose(): Promise<void> {
    this.closing = true;
    await this.regions?.link.stop().catch(() => {});
    liveRooms.delete(this);
    if (this.budgetTaken) roomBudget.release(this.roomName ?? "mmo");
    this.budgetTaken = false;
    this.releaseCreator();
    // The world lock goes last: the next room of this world loads what this one saved.
    await this.worldLock?.markClosing().catch(() => {});
    try {
      await this.saveWorld();
    } finally {
      await this.worldLock?.release().catch(() => {});
    }
  }

  /**
   * One line per failure, never the client object or the join options (tokens): a refused
   * join logs its code and reason (rate-limited), anything else its stack.
   */
  override onUncaughtException(error: Error, methodName: string): void {
    logRoomError(`mmo ${this.world}`, error, methodName);
  }

  /** What a contender for this world's lock is told (WorldLock): an empty or closing room is about to release it. */
  worldLockState(): LockState {
    return this.closing || this.sessions === undefined || this.sessions.size === 0 ? "closing" : "live";
  }

  /** True when player `id` is a user of this room, connected or held (WorldNames asks whether a name's holder is still here). */
  hasPlayer(id: string): boolean {
    return this.sessions.get(id) !== undefined;
  }

  /** True when a connected session here plays as `identity` (PlayingIdentities asks across processes). */
  isPlaying(identity: string): boolean {
    for (const s of this.sessions.values()) if (s.identity === identity && !s.reconnection) return true;
    return false;
  }

  /** The world as a snapshot: items with their hidden variables, and players by identity. */
  snapshot(): WorldSnapshot {
    return takeSnapshot(this.entities, this.memory, this.sessions.values());
  }

  /** Writes the snapshot to the store (every `snapshotSeconds`, on drain and on dispose). */
  async saveWorld(): Promise<void> {
    if (this.handedOn) return; // another room has this region's part of the world now
    await this.keeper?.save();
  }

  /** Users still in limbo (no position yet). */
  limboCount(): number {
    return this.sessions.limboCount();
  }

  /** What the room listing shows of this world (`/monitor` and the lobby: world, title, users, limbo, maxUsers). */
  listingMetadata(): WorldListing {
    // `region` is also a matchmaking filter (filterBy world and region), read from the metadata.
    return { world: this.world, region: this.region, title: this.title, users: this.sessions.size, limbo: this.sessions.limboCount(), maxUsers: this.settings.maxUsers };
  }

  /**
   * Counts changed: the listing follows within LISTING_REFRESH_MS, one driver write for a
   * burst of joins and none when nothing changed (never per patch).
   */
  protected override usersChanged(): void {
    if (this.listingTimer) return;
    this.listingTimer = this.clock.setTimeout(() => {
      this.listingTimer = undefined;
      const metadata = this.listingMetadata();
      const text = JSON.stringify(metadata);
      if (text === this.listed) return;
      this.listed = text;
      void this.setMetadata(metadata).catch(() => {});
    }, LISTING_REFRESH_MS);
  }

  private messageContext(): MessageContext {
    const { settings, entities, movement, sessions, serverUserVars, serverPrivateVars } = this;
    return {
      ...{ settings, entities, movement, sessions, serverUserVars, serverPrivateVars },
      now: () => this.clock.currentTime,
      setUserPosition: (client, pos) => this.setUserPosition(client, pos),
      sendToProximity: (center, type, message) => this.sendToProximity(center, type, message),
      sendError: (client, code, message, request) => this.sendError(client, code, message, request),
    };
  }

  /** Where this room's world (its region's part) is saved and locked: the world's name, plus `~region` beyond the entry region. */
  private storeKey(): string {
    return this.region === "" ? this.world : `${this.world}~${this.region}`;
  }

  /** A split world: ghosts in and out through presence, world-wide counts, spawns inside this region. */
  private async joinRegions(grid: RegionGrid): Promise<void> {
    const s = this.settings;
    const ghosts = new Ghosts(this.entities, grid, this.region, ghostMargin(s), s.handoffHysteresis);
    const link = new RegionLink(this.presence, this.world, this.region, (batch) => this.onGhostBatch(batch));
    this.regions = { grid, ghosts, link };
    this.entities.spawnArea = grid.bounds(this.region);
    if (this.region !== "") this.entities.itemIdPrefix = `${this.region}.`;
    // A region room stays while its neighbours' players are near (their clients see its items);
    // it closes once empty (closeIfEmpty), not when its last own user leaves.
    this.autoDispose = false;
    await link.start();
  }

  /** Once per patch in a split world: handoffs due, this patch's ghost batches, expired ghosts, the world's count. */
  private regionStep(): void {
    const { grid, ghosts, link } = this.regions!;
    const now = this.clock.currentTime;
    for (const session of this.sessions.values()) {
      if (session.inLimbo || session.reconnection || session.kicked) continue;
      if (session.handoff && !(session.handoff.retryAt !== undefined && now >= session.handoff.retryAt)) continue;
      if (session.handoffAfter !== undefined && now < session.handoffAfter) continue;
      const pos = this.entities.positionOf(session.player);
      if (!pos) continue;
      const target = grid.ownerWithHysteresis(this.region, pos, this.settings.handoffHysteresis);
      if (target !== this.region) void this.handOver(session, target);
    }
    ghosts.flush();
    ghosts.expire(now, GHOST_TTL_MS);
    link.send(ghosts.collect(now));
    // Every patch, not only at the empty check: a ghost that comes and goes between checks still counts.
    if (this.sessions.size > 0 || ghosts.size > 0) this.emptySince = now;
    if (now >= this.nextCountRefresh) {
      this.nextCountRefresh = now + 1000;
      link.setCount(this.sessions.size);
      void link.refreshCount().then((total) => (this.state.userCount = total)).catch(() => {});
    }
  }

  /**
   * Closes the room once nobody has been in it for EMPTY_ROOM_MS (see there): an abandoned
   * world, or a region nobody plays in or near. A region room holding a neighbour's ghost, or
   * with a handoff seat reserved, is not empty: closing it would pull a region from under a
   * player on its way in.
   */
  private closeIfEmpty(): void {
    if (this.closing || this.handedOn) return;
    const now = this.clock.currentTime;
    const seats = colyseusInternals.reservedSeats(this);
    const newSeat = seats.some((seat) => !this.seenSeats.has(seat.sessionId));
    this.seenSeats = new Set(seats.map((seat) => seat.sessionId));
    const occupied =
      this.clients.length > 0 ||
      this.sessions.size > 0 ||
      (this.regions?.ghosts.size ?? 0) > 0 ||
      newSeat ||
      seats.some((seat) => seat.consumed || isHandoffAuth(seat.auth));
    if (occupied) this.emptySince = now;
    else if (now - this.emptySince >= EMPTY_ROOM_MS) void this.disconnect();
  }

  private onGhostBatch(batch: GhostBatch): void {
    // Only a neighbour, by the one spelling the grid gives it, mirrors entities here: a room
    // that called itself anything else (a stale deploy's, or a second spelling of a region
    // from before names were canonical) puts no ghost, item or message into this region.
    if (!this.regions?.grid.isNeighbour(this.region, batch.from)) return;
    const events = this.regions.ghosts.apply(batch, this.clock.currentTime);
    for (const e of events) this.deliverProximity(e.center, e.half, e.type, e.message);
    const { arrived, departed } = this.regions.ghosts.takeItemMoves();
    for (const [item, from] of arrived) this.onItemHandedIn(item, from);
    for (const [item, to] of departed) this.onItemHandedOut(item, to);
  }

  /**
   * An item the game moved across a border into this region is this region's own from now on
   * (its id, variables, hidden variables and range came with it). Override to pick it up in
   * game logic, e.g. an NPC's walk. Called once per item, after the patch's batch that brought it.
   *
   * @example
   * protected override onItemHandedIn(item: Item) {
   *   if (item.kind === "npc") this.walkers.add(item);
   * }
   */
  protected onItemHandedIn(_item: Item, _from: RegionName): void {}

  /**
   * An own item moved past the border (beyond `handoffHysteresis`) and the region it moved into
   * has taken it: here it is now that region's read-only ghost (`setItemPosition` and the like
   * throw, `removeItem` returns false). Override to let go of it in game logic.
   */
  protected onItemHandedOut(_item: Item, _to: RegionName): void {}

  /** A proximity message reaches this region's users too, and the neighbours' its box reaches (AoI-scoped chat across borders). */
  protected override onProximitySend(center: Vec3, half: Vec3, type: string, message: unknown): void {
    this.regions?.ghosts.forwardProximity(center, half, type, message);
  }

  /**
   * Hands a player to the neighbouring region `target`: reserves its seat there (matchmaking
   * creates that region's room on whichever process it picks) with everything the player is,
   * then tells the client to switch. Until the neighbour has it, the player stays here, moving
   * and seen; a failure (the neighbour's process is gone) keeps it here and retries in a second.
   */
  private async handOver(session: MMOSession, target: RegionName): Promise<void> {
    const { player } = session;
    const now = this.clock.currentTime;
    session.handoff = { to: target, since: now, done: false };
    const payload = this.handoffPayload(session);
    try {
      const reservation = await matchMaker.joinOrCreate(this.roomName, { world: this.world, region: target }, handoffContext(payload));
      if (this.sessions.get(player.id) !== session || session.reconnection) return;
      session.handoff.retryAt = this.clock.currentTime + HANDOFF_RESERVATION_MS;
      session.client.send("handoff", { region: target, reservation });
      handoffs.inc({ result: "offered" });
    } catch (error) {
      session.handoff.retryAt = this.clock.currentTime + HANDOFF_RETRY_MS;
      handoffs.inc({ result: "failed" });
      logRoomError(`mmo ${this.world}/${this.region}`, error as Error, "handoff");
    }
  }

  /** Everything a region room needs to continue this player as the same one (its seat's auth data). */
  private handoffPayload(session: MMOSession): HandoffPayload {
    const { player } = session;
    return {
      id: player.id,
      name: player.name,
      identity: session.identity,
      from: this.region,
      fromRoomId: this.roomId,
      x: player.x,
      y: player.y,
      z: player.z,
      vars: readVars(player.vars),
      privateVars: readVars(this.state.privateVars.get(player.id)),
      keys: { ...session.keys },
      range: this.entities.aoi.playerRange(player),
    };
  }

  /**
   * The neighbour has the player (its onJoin calls this, through matchmaking's remote call):
   * the old connection closes with HANDED_OFF and the player stays here as the neighbour's ghost.
   */
  completeHandoff(id: string): HandoffFinal | false {
    const session = this.sessions.get(id);
    if (!session?.handoff || session.handoff.done) return false;
    session.handoff.done = true;
    session.kicked = true;
    // Where the player stands and what it holds now (the keys may have changed since the offer),
    // its keys applied up to this moment, and the input being applied with its duration so far.
    const { seq, ms } = this.movement.settle(session);
    const { player } = session;
    const final: HandoffFinal = { x: player.x, y: player.y, z: player.z, keys: { ...session.keys }, seq, ms };
    this.movement.stop(session);
    session.client.leave(CloseCodes.HANDED_OFF, "HANDED_OFF");
    // The player is the neighbour's from now on, here too: a ghost its batches move, at once
    // (not when the old connection's close arrives, which under load can take long enough for
    // this region's clients to see it freeze, then jump). onLeave ends the session.
    this.regions?.ghosts.demote(player, session.handoff.to, this.clock.currentTime);
    handoffs.inc({ result: "completed" });
    return final;
  }

  /** The old connection of a handed-over player closed: its session ends (the player is already a ghost here). */
  private leaveAfterHandoff(client: Client, session: MMOSession): void {
    this.movement.stop(session);
    this.sessions.close(session);
    client.view?.dispose();
    this.state.userCount = Math.max(this.state.userCount - 1, this.sessions.size);
    this.usersChanged();
    // A drained region whose last player has switched to its new room: nothing left to wait for.
    if (this.handedOn && this.sessions.size === 0) void this.disconnect(CloseCode.SERVER_SHUTDOWN);
  }

  /**
   * A player handed over by a neighbour: the same id (its seat kept the sessionId), name,
   * identity and variables, placed where the old room stopped it with the keys it held then
   * (`completeHandoff`, a remote call: one round trip), never in limbo. The ghost this region
   * held becomes the player, so this region's clients see it go on, not leave and re-enter.
   * If the old room does not confirm (its process is unreachable, or the player is no longer
   * on its way), the join is refused: the player stays (or rejoins) where it was, never in two
   * regions at once.
   */
  private async joinFromHandoff(client: Client, h: HandoffPayload): Promise<void> {
    const ghosts = this.regions?.ghosts;
    if (!ghosts) throw new ServerError(JoinErrorCodes.BAD_OPTIONS, "this world is not split into regions");
    if (this.sessions.size >= this.settings.maxUsers) throw new ServerError(JoinErrorCodes.WORLD_FULL, "this region is full");
    let final: HandoffFinal | false;
    try {
      final = (await matchMaker.remoteRoomCall(h.fromRoomId, "completeHandoff", [h.id])) as HandoffFinal | false;
    } catch {
      final = false;
    }
    if (!final) {
      handoffs.inc({ result: "failed" });
      throw new ServerError(JoinErrorCodes.HANDOFF_EXPIRED, "the region handing this player over did not confirm it");
    }
    // Handed back here before this room saw its old connection close (it handed the player on
    // a moment ago, and completeHandoff made it a ghost): that session ends now; its late close
    // finds a newer session under the same id and ends nothing.
    const stale = this.sessions.get(h.id);
    if (stale) {
      if (!stale.handoff?.done) throw new ServerError(JoinErrorCodes.IDENTITY_IN_USE, "this player is already in this region");
      this.movement.stop(stale);
      this.sessions.close(stale);
      stale.client.view?.dispose();
    }
    const ghost = ghosts.adopt(h.id);
    const player = ghost ?? new Player().assign({ id: h.id, name: h.name });
    if (!ghost) this.entities.addPlayer(player);
    const pos = this.entities.isInsideMap(final) ? { x: final.x, y: final.y, z: final.z } : { x: h.x, y: h.y, z: h.z };
    client.view = new StateView();
    const session = this.sessions.open(client, player, this.settings.userMaxLimboSeconds, (s) => this.expireLimbo(s));
    this.entities.promoteGhost(player, pos);
    this.adoptRange(player, h.range);
    client.view.add(this.entities.privateVarsOf(player));
    applyVars(player.vars, varsReplacing(readVars(player.vars), h.vars));
    applyVars(this.entities.privateVarsOf(player), h.privateVars);
    if (h.identity) {
      session.identity = h.identity;
      void this.playing?.enter(h.identity, WorldLock.TTL_SECONDS).catch(() => {});
    }
    this.setUserPosition(client, pos);
    this.movement.resume(session, final.keys, final.seq, final.ms ?? 0);
    // A budget: a player jumping to and fro across a border costs one handoff a second at most.
    session.handoffAfter = this.clock.currentTime + HANDOFF_COOLDOWN_MS;
    this.state.userCount = Math.max(this.state.userCount + 1, this.sessions.size);
    this.usersChanged();
    await this.checkArrivingName(player);
  }

  /**
   * A player that arrives by handoff keeps its name (its reservation travels with it), unless
   * another player of the world holds a look-alike: then it is renamed `name (n)` and its
   * clients see the new name. (A namespace that lost an entry: presence flushed, a process
   * that died, a world that was split while players played.)
   */
  private async checkArrivingName(player: Player): Promise<void> {
    const name = await this.names?.claim(player.id, player.name, this.sessions.takenHere(player.id)).catch(() => undefined);
    if (name !== undefined && name !== player.name && this.sessions.get(player.id)?.player === player) player.name = name;
  }

  /**
   * A joining user's display name: clean (`cleanName`), unique by look among this room's users
   * and, in a world split into regions, among every player of the world (WorldNames).
   */
  private async joiningName(sessionId: string, requested: string | undefined): Promise<string> {
    const local = () => this.sessions.displayName(requested, sessionId);
    if (!this.names) return local();
    // Presence unreachable: unique in this room, as a world of one room is.
    return this.names.claim(sessionId, Sessions.requestedName(requested, sessionId), this.sessions.takenHere()).catch(local);
  }

  /** The world's display names, world-wide: in a world split into regions only (one room is the whole world otherwise). */
  private get names(): WorldNames | undefined {
    if (!this.regions) return undefined;
    this.worldNames ??= new WorldNames(this.presence, this.world, this.roomId, this.clock, WorldLock.TTL_SECONDS);
    return this.worldNames;
  }

  /** A handed-over player keeps its visibility range; one these settings refuse (a mismatched deploy) falls back to the AoI. */
  private adoptRange(player: Player, range: HandoffPayload["range"]): void {
    try {
      this.entities.aoi.setPlayerRange(player, range ?? null);
    } catch {
      this.entities.aoi.setPlayerRange(player, null);
    }
  }

  private expireLimbo(session: MMOSession): void {
    this.kickFromLimbo(session, `no position within ${this.settings.userMaxLimboSeconds} s`);
  }

  /** Closes a user who never took a position (4100, after an `error` LIMBO_TIMEOUT). */
  private kickFromLimbo(session: MMOSession, why: string): void {
    session.kicked = true;
    this.usersChanged();
    if (session.reconnection) return session.reconnection.reject(new Error("limbo timeout"));
    this.sendError(session.client, MMOErrorCode.LIMBO_TIMEOUT, why);
    session.client.leave(CloseCodes.LIMBO_TIMEOUT, "LIMBO_TIMEOUT");
  }

}
