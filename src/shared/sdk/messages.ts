import type { Room } from "@colyseus/sdk";
import { type ChatBroadcast, type ClientMessages, type IdentityMessage, type MMOError, type ServerMessageType, type ServerMessages, type ShutdownNotice, serverMessages } from "../wire";

const registered = new WeakSet<Room>();
const ignore = () => {};

/**
 * Registers a handler for every message the MMO room sends (`serverMessages` in
 * src/shared/wire.ts), so the SDK never warns "onMessage() not registered" for one. joinWorld
 * calls it; call it yourself for a room joined another way. Idempotent.
 *
 * A `room.onMessage("*")` catch-all then sees only types the table does not know (a game's own).
 */
export function registerServerMessages(room: Room): void {
  if (registered.has(room)) return;
  registered.add(room);
  for (const type of Object.keys(serverMessages)) room.onMessage(type, ignore);
}

/** Calls `listener` with every `type` message, typed by `serverMessages`. Returns a function that stops listening. */
export function onServerMessage<K extends ServerMessageType>(room: Room, type: K, listener: (message: ServerMessages[K]) => void): () => void {
  registerServerMessages(room);
  return room.onMessage(type, listener);
}

/** A public chat message from a player whose AoI holds this client (its own included). */
export const onChat = (room: Room, listener: (message: ChatBroadcast) => void) => onServerMessage(room, "chat", listener);

/** A request the room refused (the `error` message; `room.onError` is the connection's). */
export const onError = (room: Room, listener: (error: MMOError) => void) => onServerMessage(room, "error", listener);

/**
 * The guest identity token issued on a first join (servers with persistence only): keep it and
 * pass it as `token` to joinWorld next time. It arrives right after the join, so register
 * this as soon as joinWorld resolves (before any other `await`).
 */
export const onIdentity = (room: Room, listener: (identity: IdentityMessage) => void) => onServerMessage(room, "identity", listener);

/** The server is draining: the room closes with 4001 in `seconds`; join the world again then. */
export const onShutdownNotice = (room: Room, listener: (notice: ShutdownNotice) => void) => onServerMessage(room, "server_shutdown", listener);

/** Arguments of sendMessage: a payload-less message (spawn) may omit its payload. */
export type SendArgs<K extends keyof ClientMessages> = undefined extends ClientMessages[K] ? [message?: ClientMessages[K]] : [message: ClientMessages[K]];

/** `room.send`, typed by `ClientMessages`: `sendMessage(room, "chat", { text: "hi" })`. */
export function sendMessage<K extends keyof ClientMessages>(room: Room, type: K, ...[message]: SendArgs<K>): void {
  room.send(type, message);
}
