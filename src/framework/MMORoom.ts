import { type AuthContext, type Client, CloseCode, type Delayed, ServerError, matchMaker } from "@colyseus/core";
import { Encoder, StateView } from "@colyseus/schema";
import { aoiSeconds, bytesSent, liveRooms, messagesRejected, patchSeconds } from "../ops/metrics";
import { roomBudget } from "../ops/roomBudget";
import { logRoomError, refusedJoin } from "../ops/roomLog";
import { CloseCodes, JoinErrorCodes, MMOErrorCode } from "../shared/codes";
import type { WorldListing } from "../shared/lobby";
import { describeIssues, joinOptionsSchema } from "../shared/protocol";
import { type MMOState, Player } from "../shared/schema";
import { type MessageContext, registerMessageHandlers } from "./messages";
import { MMOApi } from "./MMOApi";
import { Movement } from "./Movement";
import { PlayerMemory } from "./PlayerMemory";
import { PlayingIdentities } from "./PlayingIdentities";
import type { WorldSnapshot } from "./persistence/WorldStore";
import { colyseusInternals } from "./serializer/colyseusInternals";
import { FanOutSerializer } from "./serializer/FanOutSerializer";
import { chooseSerializer } from "./serializer/selfCheck";
import { type GuestAuth, type MMOSession, Sessions, limboCap } from "./Sessions";
import { type MMOSettings, type MMOSettingsInput, parseSettings } from "./settings";
import { World, applyVars } from "./World";
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

/** Options the room is created with: `settings` from arena.config.ts, `world` from the client. */
export interface MMORoomOptions {
  world?: string;
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
   * Runs in matchmaking before a room is picked: validates the join options, gives `world` its
   * default (so "" and "default" share a room), and keeps only the validated options: they
   * are what stays with the seat reservation.
   */
  static override async onAuth(_token: string, options: Record<string, unknown>, _context: AuthContext) {
    if (options === null || typeof options !== "object") throw refusedJoin(JoinErrorCodes.BAD_OPTIONS, "join options must be an object");
    const parsed = joinOptionsSchema.safeParse(options);
    if (!parsed.success) throw refusedJoin(JoinErrorCodes.BAD_OPTIONS, `bad join options: ${describeIssues(parsed.error)}`);
    for (const key of Object.keys(options)) delete options[key];
    Object.assign(options, Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)));
    return true;
  }

  override async onCreate(options: MMORoomOptions = {}): Promise<void> {
    this.world = joinOptionsSchema.shape.world.parse(options.world);
    // Settings come from the server's worlds (never from the client: onAuth kept only world, name, token).
    const declared = options.worlds ? await options.worlds.resolve(this.world) : undefined;
    if (options.worlds && !declared) throw refusedJoin(JoinErrorCodes.UNKNOWN_WORLD, `unknown world "${this.world}": this server joins only the worlds it declares`);
    const s = (this.settings = declared?.settings ?? parseSettings(options.settings));
    this.title = declared?.title ?? this.world;
    roomBudget.acquire(this.roomName ?? "mmo");
    this.budgetTaken = true;
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

    // One live room per world, cluster-wide; a closing one is waited for (its final save).
    this.worldLock = new WorldLock(this.presence, this.world, this.roomId);
    await this.worldLock.acquire(WorldLock.WAIT_MS);
    this.playing = new PlayingIdentities(this.presence, this.world, this.roomId);
    this.clock.setInterval(() => {
      void this.worldLock?.refresh().catch(() => {});
      void this.playing?.refresh(WorldLock.TTL_SECONDS).catch(() => {});
    }, (WorldLock.TTL_SECONDS * 1000) / 3);

    if (WorldKeeper.accepts(options.persistence)) {
      this.signer = options.persistence.identity;
      this.keeper = new WorldKeeper(options.persistence, this.world, () => this.snapshot(), () => this.entities.entered);
      const saved = await this.keeper.start(this.clock);
      if (saved) restoreSnapshot(this.entities, this.memory, saved);
      this.restored = saved !== undefined;
    }
  }

  /**
   * Guest identities: a valid `token` resumes that player, none gets a new one, a bad one is
   * refused (4401), and so is an identity already playing this world, here or in another
   * room of the cluster (4409).
   */
  override async onAuth(_client: Client, options: Record<string, unknown>): Promise<GuestAuth | true> {
    if (!this.signer) return true;
    const auth = this.sessions.authenticate(this.signer, options?.token);
    if (!auth.issuedToken) await this.playing?.admit(auth.playerId);
    return auth;
  }

  override onJoin(client: Client, options: Record<string, unknown> = {}): void {
    const parsed = joinOptionsSchema.safeParse(options);
    if (!parsed.success) throw new ServerError(JoinErrorCodes.BAD_OPTIONS, `bad join options: ${describeIssues(parsed.error)}`);
    const { maxUsers, userMaxLimboSeconds, maxLimboShare } = this.settings;
    const evict = this.sessions.placeFor(maxUsers, limboCap(maxUsers, maxLimboShare), this.world);
    if (evict) this.kickFromLimbo(evict, "made room for a joining player");
    const player = new Player().assign({ id: client.sessionId, name: this.sessions.displayName(parsed.data.name, client.sessionId) });
    // In the state from the start (a view can only add what the state holds), but in no view until positioned.
    this.entities.addPlayer(player);
    client.view = new StateView();
    // Its private variables: in this client's view only, from the start (limbo included).
    client.view.add(this.entities.privateVarsOf(player));
    const session = this.sessions.open(client, player, userMaxLimboSeconds, (s) => this.expireLimbo(s));
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
      if (this.entities.isInsideMap(saved)) session.savedPosition = { x: saved.x, y: saved.y, z: saved.z };
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
    // The player stays in the world (and in others' views) while its client may come back.
    this.movement.stop(session);
    const reconnection = this.allowReconnection(client, this.settings.reconnectSeconds);
    // Refused while the room is disposing; Colyseus then calls onLeave, which cleans up.
    reconnection.catch(() => {});
    session.reconnection = reconnection;
  }

  override onReconnect(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    session.client = client;
    session.reconnection = undefined;
  }

  override onLeave(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    this.memory.remember(session);
    if (session.identity) void this.playing?.leave(session.identity).catch(() => {});
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
   */
  override onBeforeShutdown(): void {
    this.closing = true;
    void this.worldLock?.markClosing().catch(() => {});
    void matchMaker.stats.excludeProcess(matchMaker.processId).catch(() => {});
    void this.saveWorld();
    const seconds = this.settings.drainSeconds;
    if (this.clients.length === 0 || seconds <= 0) return void this.disconnect(CloseCode.SERVER_SHUTDOWN);
    void this.lock();
    this.broadcast("server_shutdown", { seconds });
    this.clock.setTimeout(() => void this.disconnect(CloseCode.SERVER_SHUTDOWN), seconds * 1000);
  }

  override async onDispose(): Promise<void> {
    this.closing = true;
    liveRooms.delete(this);
    if (this.budgetTaken) roomBudget.release(this.roomName ?? "mmo");
    this.budgetTaken = false;
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
    await this.keeper?.save();
  }

  /** Users still in limbo (no position yet). */
  limboCount(): number {
    return this.sessions.limboCount();
  }

  /** What the room listing shows of this world (`/monitor` and the lobby: world, title, users, limbo, maxUsers). */
  listingMetadata(): WorldListing {
    return { world: this.world, title: this.title, users: this.sessions.size, limbo: this.sessions.limboCount(), maxUsers: this.settings.maxUsers };
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
