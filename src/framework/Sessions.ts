import { type Client, type Clock, type Delayed, type Deferred, ServerError } from "@colyseus/core";
import { JoinErrorCodes } from "../shared/codes";
import { cleanName, nameSkeletons, uniqueName } from "./names";
import type { IdentitySigner } from "./persistence/identity";
import type { KeyState } from "../shared/movement";
import type { Player } from "../shared/schema";
import type { Vec3 } from "../shared/vector";

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
  /** When it was remembered there (wall clock ms): `maxSpeed` applies to its first position from then. */
  savedAt?: number;
  /** Room clock time of the last accepted position (for `maxSpeed`). */
  movedAt?: number;
  /** Room clock time of the join (the oldest limbo user makes room first). */
  joinedAt: number;
  /**
   * Set while the player is being handed to a neighbouring region: where to, since when, whether
   * the neighbour has it (`done`), and when to offer it again if it did not take (`retryAt`).
   */
  handoff?: { to: string; since: number; done: boolean; retryAt?: number };
  /** No handoff before this room clock time (the player just arrived by one). */
  handoffAfter?: number;
  /** The client's address (TRUST_PROXY honoured): players held for reconnection are capped per address. */
  address?: string;
  /** Where the player took its first position (it has not moved while it still stands there). */
  entryPoint?: Vec3;
  /** Room clock time the dropped client started being held for reconnection (the oldest is let go first). */
  heldSince?: number;
}

/** What `onAuth` hands to `onJoin` (as `client.auth`): the identity, and a new token to send. */
export interface GuestAuth {
  playerId: string;
  issuedToken?: string;
}

/** Places limbo users may hold: a share of the world, but never fewer than 4 (small worlds). */
export function limboCap(maxUsers: number, share: number): number {
  return Math.min(maxUsers, Math.max(4, Math.ceil(maxUsers * share)));
}

export const NO_KEYS: Readonly<KeyState> = Object.freeze({ up: false, down: false, left: false, right: false });

/**
 * Every user of one room by sessionId, limbo and dropped ones included: their limbo timers,
 * reconnection, unique names and guest identities. Knows nothing of positions or the AoI.
 */
export class Sessions {
  private readonly byId = new Map<string, MMOSession>();
  private readonly skeletons = new WeakMap<Player, { name: string; keys: readonly string[] }>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<MMOSession> {
    return this.byId.values();
  }

  /** The session of a user, by client or sessionId. */
  get(client: Client | string): MMOSession | undefined {
    return this.byId.get(typeof client === "string" ? client : client.sessionId);
  }

  /** Like `get`, but throws for a user who is not in the room. */
  require(client: Client | string): MMOSession {
    const session = this.get(client);
    if (!session) throw new Error(`no user ${typeof client === "string" ? client : client.sessionId} in this room`);
    return session;
  }

  /**
   * A new session in limbo; `onLimboTimeout` runs if it has no position after
   * `limboSeconds` (SmartFoxServer's userMaxLimboSeconds).
   */
  open(client: Client, player: Player, limboSeconds: number, onLimboTimeout: (s: MMOSession) => void): MMOSession {
    const session: MMOSession = { client, player, inLimbo: true, keys: { ...NO_KEYS }, kicked: false, joinedAt: this.clock.currentTime };
    session.limboTimer = this.clock.setTimeout(() => {
      session.limboTimer = undefined;
      if (session.inLimbo) onLimboTimeout(session);
    }, limboSeconds * 1000);
    this.byId.set(client.sessionId, session);
    return session;
  }

  /** Takes a session out of limbo (its first position). Returns false if it was not in limbo. */
  leaveLimbo(session: MMOSession): boolean {
    if (!session.inLimbo) return false;
    session.inLimbo = false;
    session.limboTimer?.clear();
    session.limboTimer = undefined;
    return true;
  }

  close(session: MMOSession): void {
    session.limboTimer?.clear();
    this.byId.delete(session.client.sessionId);
  }

  /**
   * Room for one more user. Limbo users (joined, never positioned) may hold at most
   * `maxLimbo` places, and when the world is full the oldest limbo user gives its place to
   * the newcomer: connections that never play cannot keep players out. Returns the session
   * to evict (if any). @throws ServerError WORLD_FULL when every place holds a positioned player.
   */
  placeFor(maxUsers: number, maxLimbo: number, world: string): MMOSession | undefined {
    // Users already told to go (kicked, their close on its way) hold no place.
    let active = 0;
    for (const s of this.byId.values()) if (!s.kicked) active++;
    const full = active >= maxUsers;
    if (!full && this.limboCount() < maxLimbo) return undefined;
    let oldest: MMOSession | undefined;
    for (const s of this.byId.values()) {
      if (s.inLimbo && !s.kicked && (!oldest || s.joinedAt < oldest.joinedAt)) oldest = s;
    }
    if (full && !oldest) throw new ServerError(JoinErrorCodes.WORLD_FULL, `world "${world}" is full (${maxUsers} users)`);
    return oldest;
  }

  /** Users still in limbo (no position yet). */
  limboCount(): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.inLimbo && !s.kicked) n++;
    return n;
  }

  /**
   * Checks a joining client's guest identity: a valid `token` resumes that player; none gets
   * a new identity (and a token to send); a tampered or foreign one is refused (4401).
   */
  authenticate(signer: IdentitySigner, token: unknown): GuestAuth {
    if (token === undefined) {
      const { id, token: issued } = signer.issue();
      return { playerId: id, issuedToken: issued };
    }
    const id = signer.verify(token);
    if (!id) throw new ServerError(JoinErrorCodes.IDENTITY_INVALID, "invalid identity token");
    this.admitIdentity(id);
    return { playerId: id };
  }

  /**
   * Lets identity `id` join: a dropped session of the same player (a reload) is replaced by
   * the new connection; a connected one is refused (4409), so one player cannot play twice.
   */
  admitIdentity(id: string): void {
    for (const other of this.byId.values()) {
      if (other.identity !== id) continue;
      if (other.reconnection) other.reconnection.reject(new Error("replaced by a new connection"));
      else throw new ServerError(JoinErrorCodes.IDENTITY_IN_USE, "this identity is already playing in this world");
    }
  }

  /**
   * The display name for a joining user: `cleanName` (NFKC, nothing invisible or bidi, at most
   * NAME_MAX_LENGTH), `guest-xxxx` when that leaves nothing, then `name (2)`, `name (3)`... when
   * a name here looks the same (`nameSkeleton`: confusables and case ignored).
   */
  displayName(requested: string | undefined, sessionId: string): string {
    return uniqueName(Sessions.requestedName(requested, sessionId), this.takenHere());
  }

  /** A requested name made displayable (`cleanName`), `guest-xxxx` when nothing visible is left. */
  static requestedName(requested: string | undefined, sessionId: string): string {
    return cleanName(requested) || `guest-${sessionId.slice(0, 4)}`;
  }

  /** Whether a name skeleton is in use by a user of this room (other than player `except`). */
  takenHere(except?: string): (skeleton: string) => boolean {
    const taken = new Set<string>();
    for (const s of this.byId.values()) if (s.player.id !== except) for (const skeleton of this.skeletonsOf(s.player)) taken.add(skeleton);
    return (skeleton) => taken.has(skeleton);
  }

  /** A player's name skeletons, kept until the name changes. */
  private skeletonsOf(player: Player): readonly string[] {
    let skeletons = this.skeletons.get(player);
    if (!skeletons || skeletons.name !== player.name) {
      skeletons = { name: player.name, keys: nameSkeletons(player.name) };
      this.skeletons.set(player, skeletons);
    }
    return skeletons.keys;
  }
}
