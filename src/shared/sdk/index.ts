/**
 * The client side of a colyseus-mmo world on top of @colyseus/sdk 0.18: joinWorld, typed
 * server messages, proximity and variable events, and the state's schema classes, message
 * types and codes. The @colyseus-mmo/sdk package (packages/sdk) is this entry, compiled.
 */
export { joinWorld, onProximityUpdate, type Entered, type EntryPoint, type JoinWorldOptions, type ProximityUpdate } from "./proximity";
export { followHandoffs, regionOf, type RegionSwitch } from "./handoff";
export { onChat, onError, onIdentity, onServerMessage, onShutdownNotice, registerServerMessages, sendMessage, type SendArgs } from "./messages";
export { type ChangedVars, onItemVariablesUpdate, onPrivateVariablesUpdate, onRoomVariablesUpdate, onUserVariablesUpdate, privateVariablesOf } from "./variables";
export { checkVarValue, hasVar, readVar, readVars, sameVarValue, varCount, varNames, varTypeOf, type VarsLike } from "../vars";
export { Entity, Item, MMOState, Player, Vars, Vec3State } from "../schema";
export {
  CHAT_MAX_LENGTH,
  type ChatBroadcast,
  type HandoffMessage,
  type ClientMessages,
  DEFAULT_WORLD,
  type IdentityMessage,
  type JsonValue,
  type MMOError,
  NAME_MAX_LENGTH,
  type ServerMessage,
  type ServerMessageType,
  type ServerMessages,
  type ShutdownNotice,
  ROOM_VAR_LIMITS,
  VAR_LIMITS,
  type VarChanges,
  type VarType,
  type VarValue,
  serverMessages,
} from "../wire";
export { CLOSE_REASONS, CloseCodes, JoinErrorCodes, MMOErrorCode, REJOIN_CLOSE_CODES } from "../codes";
export { type KeyState, anyKeyHeld, stepPosition } from "../movement";
export type { Position, Vec3 } from "../vector";
