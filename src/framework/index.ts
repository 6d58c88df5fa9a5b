// The framework's public surface: what a game (src/game, or yours) imports. Everything else
// under src/framework is internal and may change; ESLint keeps games on this file.
export { MMORoom, type MMORoomOptions } from "./MMORoom";
export { MMOApi, type ProximityCenter } from "./MMOApi";
export type { MMOSession } from "./Sessions";
export { World, applyProximityDiff, type Entity, type PublicVars } from "./World";
export { resolveSettings, parseSettings, mmoSettingsSchema, SETTINGS_ENV_VARS, type MMOSettings, type MMOSettingsInput } from "./settings";
export { WorldRegistry, worldsFromConfig, RUNTIME_WORLDS_KEY, UNKNOWN_WORLDS, type UnknownWorlds, type WorldTable, type WorldEntryInput, type WorldSettingsInput, type ResolvedWorld } from "./worlds";
export { WorldsLobby, type WorldsLobbyOptions } from "./WorldsLobby";
export { FanOutSerializer } from "./serializer/FanOutSerializer";
export { chooseSerializer, checkFanOut, type SerializerChoice } from "./serializer/selfCheck";
export { FileWorldStore } from "./persistence/FileWorldStore";
export { RedisWorldStore } from "./persistence/RedisWorldStore";
export { IdentitySigner, identitySecret } from "./persistence/identity";
export { MAX_SAVED_PLAYERS, type WorldStore, type WorldSnapshot, type SavedItem, type SavedPlayer } from "./persistence/WorldStore";
export * from "../shared/protocol";
export * from "../shared/schema";
export * from "../shared/vars";
