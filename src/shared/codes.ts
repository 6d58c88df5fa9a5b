/**
 * Every number and code a client may see from the MMO room, in one place: the server sends
 * them, the browser client and the SDK helper read them. (Colyseus's own close codes are
 * mirrored here because the browser cannot import @colyseus/core; a test keeps the mirror
 * equal to the installed Colyseus.)
 */

/** WebSocket close codes a room's client can be left with. */
export const CloseCodes = {
  /** The client left on its own (`room.leave()`). Colyseus's CONSENTED. */
  CONSENTED: 4000,
  /** The server is draining: join the world again, it lives on another process. Colyseus's SERVER_SHUTDOWN. */
  SERVER_SHUTDOWN: 4001,
  /**
   * Colyseus's WITH_ERROR: the room closed the connection because of an error, which includes
   * a client over `maxMessagesPerSecond` (the flood guard) and an undecodable frame.
   */
  WITH_ERROR: 4002,
  /** The SDK could not reconnect to its room in time. Colyseus's FAILED_TO_RECONNECT. */
  FAILED_TO_RECONNECT: 4003,
  /** Colyseus's MAY_TRY_RECONNECT. */
  MAY_TRY_RECONNECT: 4010,
  /** A user who never set a position within `userMaxLimboSeconds` (SmartFoxServer's limbo timeout). */
  LIMBO_TIMEOUT: 4100,
  /** The player went on in a neighbouring region room (a handoff): the SDK has already switched. */
  HANDED_OFF: 4105,
  /** The connection went away without a close frame (network loss, a killed process). */
  ABNORMAL_CLOSURE: 1006,
  GOING_AWAY: 1001,
  NO_STATUS_RECEIVED: 1005,
  /** A frame over the server's size limit. */
  MESSAGE_TOO_BIG: 1009,
} as const;

/** Matchmaking error codes (the `code` of a failed join). */
export const JoinErrorCodes = {
  /** Join options that fail validation. */
  BAD_OPTIONS: 400,
  /** A guest identity token that is tampered with or signed by another server. */
  IDENTITY_INVALID: 4401,
  /** The identity is already playing in this world (another tab or device). */
  IDENTITY_IN_USE: 4409,
  /** The world already holds `maxUsers`. */
  WORLD_FULL: 4503,
  /** This server process hosts as many rooms (of this type) as it may. (An HTTP status: refused in matchmaking.) */
  ROOM_LIMIT: 503,
  /**
   * The client's address already created as many live rooms on this process as it may
   * (MMO_ROOMS_PER_ADDRESS): it can join them, not make more. (An HTTP status: refused in matchmaking.)
   */
  ROOMS_PER_ADDRESS: 429,
  /** The world is already live in another room (one room per world, cluster-wide). (An HTTP status: refused in matchmaking.) */
  WORLD_IN_USE: 409,
  /**
   * A world this server does not declare, when it refuses unknown worlds (`unknownWorlds:
   * "refuse"`, MMO_UNKNOWN_WORLDS). (An HTTP status: refused in matchmaking.)
   */
  UNKNOWN_WORLD: 404,
  /** A handoff seat whose old region did not confirm the player (it left, or its process is unreachable): the SDK stays where it was. */
  HANDOFF_EXPIRED: 4410,
} as const;

/** Codes of the `error` message the room sends to a client whose request it refused. */
export const MMOErrorCode = {
  /** Malformed payload: wrong types, NaN/Infinity, missing or unknown fields, oversized. */
  BAD_REQUEST: "BAD_REQUEST",
  /** A position outside the map limits. */
  OUT_OF_MAP: "OUT_OF_MAP",
  /** A position farther from the last one than `maxSpeed` allows (a teleport or speed cheat). */
  TOO_FAST: "TOO_FAST",
  /** A first position (out of limbo) outside the region the client joined, in a world split into regions. */
  OUT_OF_REGION: "OUT_OF_REGION",
  /** A request that needs a position, sent before the first one. */
  IN_LIMBO: "IN_LIMBO",
  /** Sent right before the 4100 close of a user who never set a position. */
  LIMBO_TIMEOUT: "LIMBO_TIMEOUT",
  /** A write the world's policy does not allow (`roomVars` outside `roomVarsClientWrite`). */
  FORBIDDEN: "FORBIDDEN",
  /** Over a per-client rate (`roomVars`: `roomVarsWritesPerSecond`); nothing changed, try later. */
  RATE_LIMITED: "RATE_LIMITED",
} as const;
export type MMOErrorCode = (typeof MMOErrorCode)[keyof typeof MMOErrorCode];

/** Close codes after which a client should join its world again by itself. */
export const REJOIN_CLOSE_CODES: readonly number[] = [
  CloseCodes.SERVER_SHUTDOWN,
  CloseCodes.FAILED_TO_RECONNECT,
  CloseCodes.MAY_TRY_RECONNECT,
  CloseCodes.GOING_AWAY,
  CloseCodes.NO_STATUS_RECEIVED,
  CloseCodes.ABNORMAL_CLOSURE,
];

/** Close codes in words, for a person. */
export const CLOSE_REASONS: Readonly<Record<number, string>> = {
  [CloseCodes.CONSENTED]: "you left",
  [CloseCodes.SERVER_SHUTDOWN]: "the server is shutting down",
  [CloseCodes.WITH_ERROR]: "closed by the server: too many messages, or a join it refused",
  [CloseCodes.FAILED_TO_RECONNECT]: "could not reconnect",
  [CloseCodes.LIMBO_TIMEOUT]: "no position was set in time",
  [CloseCodes.HANDED_OFF]: "the player went on in the neighbouring region",
  [CloseCodes.ABNORMAL_CLOSURE]: "the connection was lost",
  [CloseCodes.MESSAGE_TOO_BIG]: "a message was too large",
};
