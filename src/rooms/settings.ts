import { z } from "zod";

const finite = z.number().finite();
const vec3 = z.object({ x: finite, y: finite, z: finite }).strict();
const extents = z.object({ x: finite.min(0), y: finite.min(0), z: finite.min(0) }).strict();

/** Every setting of the MMO room, with its default. */
export const mmoSettingsSchema = z
  .object({
    /** Half-extents of the AoI box. 2D worlds keep z = 0. */
    aoi: extents.default({ x: 560, y: 400, z: 0 }),
    /** Hysteresis: an entity leaves the AoI only once outside `aoi + margin` on some axis. */
    aoiLeaveMargin: finite.min(0).default(32),
    /** The world's bounds; a position outside is refused. */
    mapLimits: z
      .object({ lower: vec3, higher: vec3 })
      .strict()
      .default({ lower: { x: 0, y: 0, z: 0 }, higher: { x: 6400, y: 6400, z: 0 } }),
    /** Seconds a joined user may stay without a position before being disconnected (4100). */
    userMaxLimboSeconds: finite.positive().default(50),
    /** How often AoI membership is recomputed, in ms. */
    proximityUpdateMillis: z.number().int().positive().default(250),
    maxUsers: z.number().int().positive().default(5000),
    /** How often state patches are sent, in ms. */
    patchRate: z.number().int().positive().default(50),
    /** Over this, the client is closed with 4002 (Colyseus's own flood guard). */
    maxMessagesPerSecond: z.number().int().positive().default(60),
    /** World units per second a player moves while a direction key is held. */
    speed: finite.positive().default(240),
    /** Seconds a dropped client's player is kept for it to reconnect. */
    reconnectSeconds: finite.min(0).default(20),
    /**
     * Fastest a client may move itself with `position` messages, units per second (0: no
     * limit, SmartFoxServer's client-authoritative positions). The entry point out of limbo
     * is not limited; server-side movement (`input`) never exceeds `speed`.
     */
    maxSpeed: finite.min(0).default(0),
    /** On SIGTERM: seconds the room keeps running after telling its clients (`server_shutdown`). */
    drainSeconds: finite.min(0).default(10),
  })
  .strict()
  .refine((s) => (["x", "y", "z"] as const).every((a) => s.mapLimits.lower[a] <= s.mapLimits.higher[a]), {
    message: "mapLimits.lower must be <= mapLimits.higher on every axis",
  });

export type MMOSettings = z.output<typeof mmoSettingsSchema>;
export type MMOSettingsInput = z.input<typeof mmoSettingsSchema>;

/** Environment variables that override a setting, and how each is read. */
const ENV_OVERRIDES: Record<string, (value: string, s: Record<string, unknown>) => void> = {
  MMO_AOI: (v, s) => (s.aoi = parseVec3("MMO_AOI", v)),
  MMO_AOI_LEAVE_MARGIN: (v, s) => (s.aoiLeaveMargin = parseNumber("MMO_AOI_LEAVE_MARGIN", v)),
  MMO_MAP_LOWER: (v, s) => (s.mapLimits = { ...(s.mapLimits as object), lower: parseVec3("MMO_MAP_LOWER", v) }),
  MMO_MAP_HIGHER: (v, s) => (s.mapLimits = { ...(s.mapLimits as object), higher: parseVec3("MMO_MAP_HIGHER", v) }),
  MMO_USER_MAX_LIMBO_SECONDS: (v, s) => (s.userMaxLimboSeconds = parseNumber("MMO_USER_MAX_LIMBO_SECONDS", v)),
  MMO_PROXIMITY_UPDATE_MILLIS: (v, s) => (s.proximityUpdateMillis = parseNumber("MMO_PROXIMITY_UPDATE_MILLIS", v)),
  MMO_MAX_USERS: (v, s) => (s.maxUsers = parseNumber("MMO_MAX_USERS", v)),
  MMO_PATCH_RATE: (v, s) => (s.patchRate = parseNumber("MMO_PATCH_RATE", v)),
  MMO_MAX_MESSAGES_PER_SECOND: (v, s) => (s.maxMessagesPerSecond = parseNumber("MMO_MAX_MESSAGES_PER_SECOND", v)),
  MMO_SPEED: (v, s) => (s.speed = parseNumber("MMO_SPEED", v)),
  MMO_RECONNECT_SECONDS: (v, s) => (s.reconnectSeconds = parseNumber("MMO_RECONNECT_SECONDS", v)),
  MMO_DRAIN_SECONDS: (v, s) => (s.drainSeconds = parseNumber("MMO_DRAIN_SECONDS", v)),
  MMO_MAX_SPEED: (v, s) => (s.maxSpeed = parseNumber("MMO_MAX_SPEED", v)),
};

export const SETTINGS_ENV_VARS = Object.keys(ENV_OVERRIDES);

function parseNumber(name: string, value: string): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n)) throw new Error(`${name} must be a number, got "${value}"`);
  return n;
}

function parseVec3(name: string, value: string): { x: number; y: number; z: number } {
  const parts = value.split(",");
  if (parts.length < 2 || parts.length > 3) throw new Error(`${name} must be "x,y" or "x,y,z", got "${value}"`);
  const [x, y, z = "0"] = parts;
  return { x: parseNumber(name, x), y: parseNumber(name, y), z: parseNumber(name, z) };
}

/**
 * Resolves the room's settings: defaults, then `options` (from arena.config.ts), then the
 * `MMO_*` environment variables. Throws a readable error on any bad value.
 */
export function resolveSettings(options: MMOSettingsInput = {}, env: NodeJS.ProcessEnv = process.env): MMOSettings {
  const merged: Record<string, unknown> = structuredClone(options);
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined) apply(value, merged);
  }
  if (merged.mapLimits) {
    const defaults = mmoSettingsSchema.parse({}).mapLimits;
    merged.mapLimits = { ...defaults, ...(merged.mapLimits as object) };
  }
  const result = mmoSettingsSchema.safeParse(merged);
  if (!result.success) {
    throw new Error(`Invalid MMO room settings: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
