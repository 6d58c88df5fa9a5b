import { Client, type Room } from "@colyseus/sdk";
import { CLOSE_REASONS, CloseCodes, JoinErrorCodes, REJOIN_CLOSE_CODES } from "@shared/codes";
import type { ChatBroadcast, ClientMessages, MMOError } from "@shared/protocol";
import type { MMOState } from "@shared/schema";
import { followHandoffs, joinWorld, onChat, onError, onIdentity, onServerMessage, onShutdownNotice, regionOf } from "@shared/sdk";
import type { PageParams } from "./params";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "disconnected";

export interface NetEvents {
  status(status: ConnectionStatus, detail?: string): void;
  /** `rejoin` is true when this join moved the player to its world's new room. */
  joined(room: Room<MMOState>, rejoin: boolean): void;
  /** The server announced a drain: the world moves elsewhere in `seconds`. */
  shutdownNotice(seconds: number): void;
  reconnected(room: Room<MMOState>): void;
  /**
   * The player went on in a neighbouring region's room (a handoff): the same player (same
   * sessionId), now in `to`; `from` closes by itself with 4105 (HANDED_OFF). Sends already go to `to`.
   */
  switched(from: Room<MMOState>, to: Room<MMOState>, region: string): void;
  chat(message: ChatBroadcast): void;
  serverError(error: MMOError): void;
}

/** Leaves after which the client joins its world again by itself. */
const REJOIN_CODES = new Set(REJOIN_CLOSE_CODES);
const MAX_REJOINS = 6;
/**
 * The old room of a handoff may close (4105) before the new room's join completes here; if no
 * switch follows within this long (the neighbour refused the seat), the client joins the
 * region it was offered instead.
 */
const HANDOFF_WAIT_MS = 5000;

/** A message and its payload, typed by shared/protocol.ts (a payload-less one may omit it). */
type Payload<K extends keyof ClientMessages> = undefined extends ClientMessages[K] ? [message?: ClientMessages[K]] : [message: ClientMessages[K]];

/**
 * The connection to the game server: joins the page's world, follows the SDK's own
 * reconnection (connected → reconnecting → connected), follows handoffs between the region
 * rooms of a split world (the room changes, the player and the connection status do not),
 * and measures the round trip.
 */
export class Net {
  /** The room the player is in now (after a handoff: the new region's). */
  room?: Room<MMOState>;
  /** The region of `room` ("" : the entry region, or an unsplit world); a rejoin goes back to it. */
  region = "";
  /** Handoffs followed since the last join (tests read it). */
  handoffs = 0;
  private client?: Client;
  private stopFollowing?: () => void;
  /** Where this tab's identity token is kept (the join chose it): every room of the session may send one. */
  private identityStore?: { store: Storage; key: string };
  /** Listeners on `room` that must not outlive it as the current room (its messages). */
  private roomListeners: Array<() => void> = [];
  /** The region the current room last offered a handoff to. */
  private offeredRegion?: string;
  private handoffTimer?: ReturnType<typeof setTimeout>;
  status: ConnectionStatus = "connecting";
  detail = "";
  pingMs = -1;
  /** Every status the connection went through, oldest first (tests read it). */
  readonly history: ConnectionStatus[] = [];
  private pingTimer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly endpoint: string,
    private readonly params: PageParams,
    private readonly events: NetEvents,
  ) {}

  /** The join error code of the last failed connect (e.g. 4409: the identity is playing elsewhere). */
  refusal?: number;

  /** Joins the page's world; `freshGuest` plays as a new guest identity in this tab. */
  async connect(rejoin = false, freshGuest = false): Promise<void> {
    this.setStatus(rejoin ? "reconnecting" : "connecting", rejoin ? "moving to another server" : "");
    this.refusal = undefined;
    try {
      // A rejoin (after a drain or a crash) goes back to the player's region; a fresh join to the
      // page's, else to the one this browser last played in (that region remembers the player).
      const wanted = rejoin ? this.region : (this.params.region ?? this.lastRegion());
      const { room, region } = await this.joinOrEntry(freshGuest, wanted, rejoin || this.params.region !== undefined);
      this.rejoinAttempts = 0;
      this.region = region;
      this.keepRegion(region);
      this.attach(room, rejoin);
    } catch (e) {
      if (rejoin && this.rejoinAttempts < MAX_REJOINS) this.scheduleRejoin();
      else {
        this.refusal = (e as { code?: number } | undefined)?.code;
        this.setStatus("disconnected", joinFailure(e, this.endpoint));
      }
    }
  }

  private rejoinAttempts = 0;

  /** Where this browser last played this world ("" when never, or after the world lost its regions). */
  private lastRegion(): string {
    return localStorage.getItem(`mmo.region.${this.params.world}`) ?? "";
  }

  private keepRegion(region: string): void {
    if (region) localStorage.setItem(`mmo.region.${this.params.world}`, region);
    else localStorage.removeItem(`mmo.region.${this.params.world}`);
  }

  /** Joins `region`; a remembered region the world no longer has (400) falls back to the entry region. */
  private async joinOrEntry(freshGuest: boolean, region: string, asked: boolean): Promise<{ room: Room<MMOState>; region: string }> {
    try {
      return { room: await this.join(freshGuest, region), region };
    } catch (e) {
      if (asked || region === "" || (e as { code?: number } | undefined)?.code !== 400) throw e;
      return { room: await this.join(freshGuest, ""), region: "" };
    }
  }

  /** Joins the world again after a short, growing, jittered wait (bounded attempts). */
  private scheduleRejoin(): void {
    const wait = Math.min(4000, 250 * 2 ** this.rejoinAttempts++) * (0.5 + Math.random());
    setTimeout(() => void this.connect(true), wait);
  }

  /**
   * Joins with this browser's guest identity for the name (one is issued on a first join).
   * The identity lives in localStorage, shared by the browser's tabs, so a single tab that
   * comes back resumes its player. A tab that finds it already playing (another tab: 4409)
   * plays as a guest of its own, kept in sessionStorage, so two tabs of one browser both play
   * (as "Ada" and "Ada (2)"); when that one is playing too (a duplicated tab copies
   * sessionStorage), the tab starts a new guest. `freshGuest` (the refusal screen's "play as
   * a new guest") skips straight to that.
   */
  private async join(freshGuest = false, region = ""): Promise<Room<MMOState>> {
    const name = this.params.name ?? "";
    const shared = { store: localStorage, key: `mmo.identity.${name}` };
    const ownTab = { store: sessionStorage, key: `mmo.identity.tab.${name}` };
    if (freshGuest) ownTab.store.removeItem(ownTab.key);
    let where = freshGuest || ownTab.store.getItem(ownTab.key) !== null ? ownTab : shared;
    const client = new Client(this.endpoint);
    const attempt = () =>
      joinWorld(client, { world: this.params.world, name: this.params.name, token: where.store.getItem(where.key) ?? undefined, ...(region && { region }) });
    let room: Room<MMOState> | undefined;
    // At most: the shared identity, this tab's own, a new guest (each refusal moves one step).
    for (let tries = 0; !room; tries++) {
      try {
        room = await attempt();
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (tries >= 2) throw e;
        if (code === JoinErrorCodes.IDENTITY_INVALID) {
          // A token this server does not accept (another server's secret): start a new identity.
          where.store.removeItem(where.key);
        } else if (code === JoinErrorCodes.IDENTITY_IN_USE && where === shared) {
          where = ownTab;
        } else if (code === JoinErrorCodes.IDENTITY_IN_USE) {
          ownTab.store.removeItem(ownTab.key);
        } else {
          throw e;
        }
      }
    }
    this.client = client;
    this.identityStore = where;
    for (const off of this.roomListeners.splice(0)) off();
    // Registered now (the token arrives right after the join), before any other await.
    this.roomListeners.push(onIdentity(room, (m) => this.keepIdentity(m.token)));
    return room;
  }

  /**
   * The one way the client talks to the room: a message type of shared/protocol.ts with its
   * payload. While the connection is being restored the SDK queues it.
   */
  send<K extends keyof ClientMessages>(type: K, ...[message]: Payload<K>): void {
    if (this.room && this.status !== "disconnected") this.room.send(type, message);
  }

  private keepIdentity(token: string): void {
    const where = this.identityStore;
    if (where) where.store.setItem(where.key, token);
  }

  private attach(room: Room<MMOState>, rejoin: boolean): void {
    this.room = room;
    this.handoffs = 0;
    clearTimeout(this.handoffTimer);
    this.listen(room);
    // A split world's server hands the player to the neighbouring region's room as it walks
    // over a border: follow it there (an unsplit world never sends a handoff).
    this.stopFollowing?.();
    this.stopFollowing = followHandoffs(this.client!, room, ({ from, to, region }) => this.switchTo(from, to, region));
    this.setStatus("connected");
    this.events.joined(room, rejoin);
    clearInterval(this.pingTimer);
    const ping = () => this.room?.ping((ms) => (this.pingMs = Math.round(ms)));
    ping();
    this.pingTimer = setInterval(() => this.status === "connected" && ping(), 2000);
  }

  /** Everything the client hears from a room, while it is the current one. */
  private listen(room: Room<MMOState>): void {
    // Reconnect after a drop even early in the session (the SDK's default waits 5 s of uptime),
    // and give up within seconds, not minutes: if the room's process is gone, the world is
    // rejoined (on a live process) instead.
    room.reconnection.minUptime = 500;
    room.reconnection.maxRetries = 6;
    room.reconnection.maxDelay = 1500;
    const current = () => this.room === room;
    this.roomListeners.push(
      onShutdownNotice(room, (m) => this.events.shutdownNotice(m.seconds)),
      onChat(room, (m) => this.events.chat(m)),
      onError(room, (m) => this.events.serverError(m)),
      onServerMessage(room, "handoff", (m) => (this.offeredRegion = m.region)),
    );
    room.onDrop((code) => current() && this.setStatus("reconnecting", CLOSE_REASONS[code] ?? `code ${code}`));
    room.onReconnect(() => {
      if (!current()) return;
      this.setStatus("connected");
      this.events.reconnected(room);
    });
    room.onLeave((code, reason) => {
      // The room a handoff left: expected, and nothing to do (the player is in the new room).
      if (!current()) return;
      if (code === CloseCodes.HANDED_OFF) {
        // The new room's join is still on its way here: wait for the switch (followHandoffs).
        // Should it never come, join the region the player was offered.
        clearTimeout(this.handoffTimer);
        this.handoffTimer = setTimeout(() => {
          if (!current()) return;
          this.region = this.offeredRegion ?? this.region;
          this.scheduleRejoin();
        }, HANDOFF_WAIT_MS);
        return;
      }
      clearInterval(this.pingTimer);
      // Drained (4001), or the connection broke and could not be restored (its process
      // died): the world lives on elsewhere, so join it again (its region, in a split world).
      if (REJOIN_CODES.has(code)) {
        this.scheduleRejoin();
        return;
      }
      this.setStatus("disconnected", CLOSE_REASONS[code] ?? reason ?? `code ${code}`);
    });
  }

  /** A handoff: the player goes on in `to`, which hears everything `from` did; `from` closes (4105) by itself. */
  private switchTo(from: Room<MMOState>, to: Room<MMOState>, region: string): void {
    if (from !== this.room) return;
    for (const off of this.roomListeners.splice(0)) off();
    clearTimeout(this.handoffTimer);
    this.room = to;
    this.region = regionOf(to) || region;
    this.keepRegion(this.region);
    this.offeredRegion = undefined;
    this.handoffs++;
    this.roomListeners.push(onIdentity(to, (m) => this.keepIdentity(m.token)));
    this.listen(to);
    this.events.switched(from, to, this.region);
    // The status stays "connected" (a handoff is no disconnect); a drop during it shows as usual.
    if (this.status !== "connected") this.setStatus("connected");
  }

  private setStatus(status: ConnectionStatus, detail = ""): void {
    this.status = status;
    this.detail = detail;
    this.history.push(status);
    this.events.status(status, detail);
  }
}

/** Why a join failed, for a person: the server is down, the world is full, or what it said. */
function joinFailure(e: unknown, endpoint: string): string {
  const err = e as { code?: number; message?: string } | undefined;
  const message = err?.message || String(e);
  const code = err?.code;
  // No answer at all, or a proxy/static host answering instead of the game server.
  const unreachable = code === undefined || code === 0 || code === 404 || code === 502 || code === 503 || code === 504;
  // 404 is also this server refusing a world it does not declare (JoinErrorCodes.UNKNOWN_WORLD).
  if (unreachable && !/is full|unknown world/.test(message)) return `cannot reach the game server at ${endpoint} (${message})`;
  if (code === JoinErrorCodes.UNKNOWN_WORLD) return `${message}. Open the page without ?world= to choose one.`;
  if (code === JoinErrorCodes.IDENTITY_IN_USE) {
    return "This guest is already playing in this world, in another tab or window of this browser or on another device. Close that one and retry, or play here as a new guest.";
  }
  return message;
}
