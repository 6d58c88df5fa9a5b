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
export const DEFAULT_WORLD = "default";

/** Bounds on user variables, so one client cannot grow the state without limit. */
export const VAR_LIMITS = { maxKeys: 16, maxKeyLength: 32, maxValueLength: 256 } as const;
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
  /** User variables to set (a string) or delete (null); at most VAR_LIMITS.maxKeys. */
  vars: Record<string, string | null>;
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
  ack: message<InputAck>("to the player who moves with keys: the input (`seq`) the server applies, for how long (`ms`), and where it left the player"),
} as const;

/** Server message payloads by type: `ServerMessages["chat"]` is `ChatBroadcast`. */
export type ServerMessages = { [K in keyof typeof serverMessages]: (typeof serverMessages)[K] extends ServerMessage<infer P> ? P : never };
export type ServerMessageType = keyof ServerMessages;
