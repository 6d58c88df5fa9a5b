/**
 * The protocol's plain half: what travels between the SDK and the room, with no validation
 * library. protocol.ts re-exports all of it next to the zod schemas that check client
 * messages, so server code imports from protocol.ts; the SDK (src/shared/sdk, and the
 * @colyseus-mmo/sdk package built from it) imports from here, so neither its bundle nor its
 * .d.ts carries zod.
 */
import type { MMOErrorCode } from "./codes";
import type { InputAck } from "./movement";

/** The world a client joins when it names none. */
/**
 * A region's one spelling: "" (the entry region, cell 0,0) or "cx_cy" in decimal without
 * leading zeros. Matchmaking filters rooms on this text: a second spelling of a cell would be
 * a second live copy of that region.
 */
export const REGION_NAME = /^(?:(?!0_0$)(?:0|[1-9]\d{0,3})_(?:0|[1-9]\d{0,3}))?$/;

export const DEFAULT_WORLD = "default";

/**
 * Bounds on the variables a client sets (user, private and Room Variables), so one client cannot
 * grow the state without limit: names per set (and per message), name length, string length,
 * and for an object or array value the bytes of its JSON and its nesting depth.
 */
export const VAR_LIMITS = { maxKeys: 16, maxKeyLength: 32, maxValueLength: 256, maxJsonBytes: 1024, maxJsonDepth: 4 } as const;
/** Room Variables a world holds at most through client writes (the server API has no cap). */
export const ROOM_VAR_LIMITS = { maxKeys: 32 } as const;

/** A JSON value, inside an object or array variable. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/**
 * A variable's value, typed on the wire: bool, int or double (a JS number: an integer arrives
 * as an int), string, or an object/array (sent as JSON). `null` deletes a variable.
 */
export type VarValue = boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** The SmartFoxServer-style type of a value (`varTypeOf` in src/shared/vars.ts). */
export type VarType = "bool" | "int" | "double" | "string" | "object" | "array";
/** Variables to set (a value) or delete (null), by name. */
export type VarChanges = Record<string, VarValue | null>;
export const CHAT_MAX_LENGTH = 200;
export const NAME_MAX_LENGTH = 24;

// ---------------------------------------------------------------------------------------
// Client -> server. The zod schemas in protocol.ts (`clientMessages`) validate these; a
// compile-time check there keeps the two equal.
// ---------------------------------------------------------------------------------------

/** What a client may send, by message type: `room.send(type, message)`. */
export interface ClientMessages {
  /** SetUserPosition. The first one takes the user out of limbo. */
  position: { x: number; y: number; z?: number };
  /** Asks the server to pick a free entry point; only while in limbo. */
  spawn: undefined | null | Record<string, never>;
  /** Key states; the server moves the player while a key is held. `seq` (a counter) asks for `ack`s. */
  input: { up: boolean; down: boolean; left: boolean; right: boolean; seq?: number };
  /** A public message to everyone whose AoI holds the sender (1..CHAT_MAX_LENGTH after trimming). */
  chat: { text: string };
  /** User variables to set (a typed value) or delete (null); at most VAR_LIMITS.maxKeys. */
  vars: VarChanges;
  /** Private user variables (only their owner receives them), same form and bounds as `vars`. */
  privateVars: VarChanges;
  /** Room Variables, if the world's `roomVarsClientWrite` policy allows these names; rate-limited. */
  roomVars: VarChanges;
}

// ---------------------------------------------------------------------------------------
// Server -> client: every message the MMO room sends, in one table. The SDK registers a
// handler for each (no "onMessage() not registered" warning) and types its hooks from it.
// A new server message is one line here.
// ---------------------------------------------------------------------------------------

/** `chat`: a public message from a player whose AoI holds you (your own included). */
export interface ChatBroadcast {
  /** The sender's sessionId (its key in `state.players`). */
  from: string;
  name: string;
  text: string;
}

/** `error`: the room refused a request. `request` is the message type that was refused. */
export interface MMOError {
  code: MMOErrorCode;
  message: string;
  request?: string;
}

/** `identity`: the guest identity token issued on a first join; pass it as `token` next time. */
export interface IdentityMessage {
  token: string;
}

/** `server_shutdown`: the server is draining; the world moves to another process in `seconds`. */
export interface ShutdownNotice {
  seconds: number;
}

/**
 * A player crossed into a neighbouring region: join `reservation` (the SDK's
 * `consumeSeatReservation`) and go on there; the old room then closes with 4105 (HANDED_OFF).
 * joinWorld's `followHandoffs` does it.
 */
export interface HandoffMessage {
  region: string;
  reservation: { name: string; sessionId: string; roomId: string; processId: string; publicAddress?: string; reconnectionToken?: string; devMode?: boolean };
}

/** One row of `serverMessages`: what the message means; its payload type rides along at compile time. */
export interface ServerMessage<Payload> {
  readonly doc: string;
  /** Never set: carries the payload type. */
  readonly payload?: Payload;
}

const message = <Payload>(doc: string): ServerMessage<Payload> => ({ doc });

/** Every message the MMO room sends to a client, by type. */
export const serverMessages = {
  identity: message<IdentityMessage>("the guest identity token issued on a first join (only with persistence)"),
  chat: message<ChatBroadcast>("a public message from a player whose AoI holds this client"),
  error: message<MMOError>("a refused request; right before a 4100 close, LIMBO_TIMEOUT"),
  server_shutdown: message<ShutdownNotice>("the server is draining: the world moves elsewhere in `seconds`"),
  handoff: message<HandoffMessage>("the player crossed into a neighbouring region: consume `reservation` and go on there (the old room closes with 4105)"),
  ack: message<InputAck>("to the player who moves with keys: the input (`seq`) the server applies, for how long (`ms`), and where it left the player"),
} as const;

/** Server message payloads by type: `ServerMessages["chat"]` is `ChatBroadcast`. */
export type ServerMessages = { [K in keyof typeof serverMessages]: (typeof serverMessages)[K] extends ServerMessage<infer P> ? P : never };
export type ServerMessageType = keyof ServerMessages;
