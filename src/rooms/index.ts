export { MMORoom, type MMORoomOptions, type MMOSession, type ProximityCenter } from "./MMORoom";
export * from "./protocol";
export { resolveSettings, mmoSettingsSchema, SETTINGS_ENV_VARS, type MMOSettings, type MMOSettingsInput } from "./settings";
