import type { AuthContext } from "@colyseus/core";
import type { KeyState } from "../shared/movement";
import type { VarValue } from "../shared/wire";
import type { RegionName } from "./RegionGrid";

/**
 * A player on its way from one region room to its neighbour: everything the new room needs to
 * continue it as the same player (id, name, identity, place, variables, held keys). It travels
 * as the seat reservation's auth data (matchmaking's remote call to the neighbour's process),
 * never through the client.
 */
export interface HandoffPayload {
  /** The player's world-global id (its sessionId, kept by the new seat). */
  id: string;
  name: string;
  identity?: string;
  from: RegionName;
  /** The room handing it over (told when the new room has it: `completeHandoff`). */
  fromRoomId: string;
  x: number;
  y: number;
  z: number;
  vars: Record<string, VarValue>;
  privateVars: Record<string, VarValue>;
  keys: KeyState;
  /** Its own visibility range (`setVisibilityRange`), when it has one. */
  range?: { x: number; y: number; z: number };
}

/** What the old room answers the new one's `completeHandoff`: where it stopped the player, and the keys it held then. */
export interface HandoffFinal {
  x: number;
  y: number;
  z: number;
  keys: KeyState;
  /** The input being applied (its `seq`) and for how long so far (ms): the new region's acks go on from there. */
  seq?: number;
  ms?: number;
}

/** What onAuth hands onJoin for a handed-over player (`client.auth`). */
export interface HandoffAuth {
  /** Read by matchmaking: the seat keeps the player's sessionId, so its entity id never changes. */
  sessionId: string;
  playerId?: string;
  handoff: HandoffPayload;
}

/**
 * The mark of a handoff on an auth context. A module-private symbol: a client's join request is
 * decoded from JSON and its context built by the transport, so none can carry it.
 */
const HANDOFF = Symbol("colyseus-mmo.handoff");

/** The auth context a region room passes to `matchMaker.joinOrCreate` to reserve a handed-over player's seat. */
export function handoffContext(payload: HandoffPayload): AuthContext {
  return { token: undefined, headers: new Headers(), ip: "127.0.0.1", [HANDOFF]: payload } as unknown as AuthContext;
}

/** The handoff an auth context carries, if it is one (static onAuth). */
export function handoffIn(context: unknown): HandoffAuth | undefined {
  const payload = (context as { [HANDOFF]?: HandoffPayload } | undefined)?.[HANDOFF];
  return payload ? { sessionId: payload.id, playerId: payload.identity, handoff: payload } : undefined;
}

/** True for the auth data of a handed-over player (it crossed processes as JSON: checked by shape). */
export function isHandoffAuth(auth: unknown): auth is HandoffAuth {
  const h = (auth as HandoffAuth | undefined)?.handoff;
  return typeof h === "object" && h !== null && typeof h.id === "string" && typeof h.fromRoomId === "string";
}
