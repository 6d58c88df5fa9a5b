import { Client, type Room } from "@colyseus/sdk";
import { CLOSE_REASONS, JoinErrorCodes, REJOIN_CLOSE_CODES } from "@shared/codes";
import type { ChatBroadcast, ClientMessages, MMOError } from "@shared/protocol";
import type { MMOState } from "@shared/schema";
import { joinWorld, onChat, onError, onIdentity, onShutdownNotice } from "@shared/sdk";
import type { PageParams } from "./params";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "disconnected";

export interface NetEvents {
  status(status: ConnectionStatus, detail?: string): void;
  /** `rejoin` is true when this join moved the player to its world's new room. */
  joined(room: Room<MMOState>, rejoin: boolean): void;
  /** The server announced a drain: the world moves elsewhere in `seconds`. */
  shutdownNotice(seconds: number): void;
  reconnected(room: Room<MMOState>): void;
  chat(message: ChatBroadcast): void;
  serverError(error: MMOError): void;
}

/** Leaves after which the client joins its world again by itself. */
const REJOIN_CODES = new Set(REJOIN_CLOSE_CODES);
const MAX_REJOINS = 6;

/** A message and its payload, typed by shared/protocol.ts (a payload-less one may omit it). */
type Payload<K extends keyof ClientMessages> = undefined extends ClientMessages[K] ? [message?: ClientMessages[K]] : [message: ClientMessages[K]];

/**
 * The connection to the game server: joins the page's world, follows the SDK's own
 * reconnection (connected → reconnecting → connected), and measures the round trip.
 */
export class Net {
  room?: Room<MMOState>;
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
      const room = await this.join(freshGuest);
      this.rejoinAttempts = 0;
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
  private async join(freshGuest = false): Promise<Room<MMOState>> {
    const name = this.params.name ?? "";
    const shared = { store: localStorage, key: `mmo.identity.${name}` };
    const ownTab = { store: sessionStorage, key: `mmo.identity.tab.${name}` };
    if (freshGuest) ownTab.store.removeItem(ownTab.key);
    let where = freshGuest || ownTab.store.getItem(ownTab.key) !== null ? ownTab : shared;
    const client = new Client(this.endpoint);
    const attempt = () => joinWorld(client, { world: this.params.world, name: this.params.name, token: where.store.getItem(where.key) ?? undefined });
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
    const keep = where;
    onIdentity(room, (m) => keep.store.setItem(keep.key, m.token));
    return room;
  }

  /**
   * The one way the client talks to the room: a message type of shared/protocol.ts with its
   * payload. While the connection is being restored the SDK queues it.
   */
  send<K extends keyof ClientMessages>(type: K, ...[message]: Payload<K>): void {
    if (this.room && this.status !== "disconnected") this.room.send(type, message);
  }

  private attach(room: Room<MMOState>, rejoin: boolean): void {
    this.room = room;
    // Reconnect after a drop even early in the session (the SDK's default waits 5 s of uptime),
    // and give up within seconds, not minutes: if the room's process is gone, the world is
    // rejoined (on a live process) instead.
    room.reconnection.minUptime = 500;
    room.reconnection.maxRetries = 6;
    room.reconnection.maxDelay = 1500;
    onShutdownNotice(room, (m) => this.events.shutdownNotice(m.seconds));
    onChat(room, (m) => this.events.chat(m));
    onError(room, (m) => this.events.serverError(m));
    room.onDrop((code) => this.setStatus("reconnecting", CLOSE_REASONS[code] ?? `code ${code}`));
    room.onReconnect(() => {
      this.setStatus("connected");
      this.events.reconnected(room);
    });
    room.onLeave((code, reason) => {
      clearInterval(this.pingTimer);
      // Drained (4001), or the connection broke and could not be restored (its process
      // died): the world lives on elsewhere, so join it again.
      if (REJOIN_CODES.has(code)) {
        this.scheduleRejoin();
        return;
      }
      this.setStatus("disconnected", CLOSE_REASONS[code] ?? reason ?? `code ${code}`);
    });
    this.setStatus("connected");
    this.events.joined(room, rejoin);
    const ping = () => room.ping((ms) => (this.pingMs = Math.round(ms)));
    ping();
    this.pingTimer = setInterval(() => this.status === "connected" && ping(), 2000);
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
