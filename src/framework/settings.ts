import { z } from "zod";
import { envChoice, envNumber, envVec3 } from "../ops/env";

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
    /** A per-entity visibility range (`setVisibilityRange`) may be at most this many times the AoI on each axis. */
    maxVisibilityRange: finite.min(1).default(8),
    /** The world's bounds; a position outside is refused. */
    mapLimits: z
      .object({ lower: vec3, higher: vec3 })
      .strict()
      .default({ lower: { x: 0, y: 0, z: 0 }, higher: { x: 6400, y: 6400, z: 0 } }),
    /**
     * Width and height (x, y) of a region: the world is split into a grid of region rooms of
     * this size (src/regions/). 0 on both axes (the default): one region, one room, as before.
     */
    regionSize: z.object({ x: finite.min(0), y: finite.min(0) }).strict().default({ x: 0, y: 0 }),
    /**
     * Units a player may stray past its region's border before it is handed to the neighbour
     * (so walking along a border does not flap). Must stay under the AoI plus aoiLeaveMargin
     * (the ghost margin), so a handed-over player is still mirrored back right away.
     */
    handoffHysteresis: finite.min(0).default(48),
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
     * Seconds a dropped player that never played (still in limbo, or standing where it entered)
     * is kept instead: a join that ends in a dropped socket costs seconds, not reconnectSeconds.
     */
    shortHoldSeconds: finite.min(0).default(3),
    /**
     * Dropped players held for reconnection per client address (TRUST_PROXY honoured); over it,
     * the oldest held one of that address leaves. 0: no limit per address (players behind one
     * NAT or an untrusted proxy whose connection blips all at once).
     */
    maxHeldPerAddress: z.number().int().min(0).default(4),
    /** Share of `maxUsers` that dropped players held for reconnection may be (at least 4); over it, the oldest held one leaves. */
    maxHeldShare: finite.positive().max(1).default(0.25),
    /**
     * Fastest a client may move itself with `position` messages, units per second (0: no
     * limit, SmartFoxServer's client-authoritative positions). The entry point out of limbo
     * is not limited; server-side movement (`input`) never exceeds `speed`.
     */
    maxSpeed: finite.min(0).default(0),
    /** On SIGTERM: seconds the room keeps running after telling its clients (`server_shutdown`). */
    drainSeconds: finite.min(0).default(10),
    /**
     * `fanout`: FanOutSerializer (per-client cost follows what the client sees), used only if
     * its startup self-check passes against the installed Colyseus. `stock`: Colyseus's own.
     */
    serializer: z.enum(["fanout", "stock"]).default("fanout"),
    /**
     * Share of `maxUsers` that users in limbo (joined, no position yet) may hold; beyond it,
     * and whenever the world is full, the oldest limbo user makes room for a joining one.
     */
    maxLimboShare: finite.positive().max(1).default(0.25),
    /** Bytes of JSON a world spends on remembering returning players (least recently seen go first). */
    savedPlayersBytes: z.number().int().positive().default(2 * 1024 * 1024),
    /**
     * Which Room Variables clients may write with `roomVars`: "none" (the default: only the
     * server, MMOApi.setRoomVariables), "any", or a list of names. Others get FORBIDDEN.
     */
    roomVarsClientWrite: z
      .union([z.enum(["none", "any"]), z.array(z.string().min(1).max(32)).max(64)])
      .default("none"),
    /** `roomVars` messages a client may send per second (a burst of as many); beyond, RATE_LIMITED. */
    roomVarsWritesPerSecond: finite.positive().max(100).default(2),
  })
  .strict()
  .refine((s) => (["x", "y", "z"] as const).every((a) => s.mapLimits.lower[a] <= s.mapLimits.higher[a]), {
    message: "mapLimits.lower must be <= mapLimits.higher on every axis",
  })
  // Only a split world hands players over (a world of one region may have any AoI).
  .refine((s) => (s.regionSize.x <= 0 && s.regionSize.y <= 0) || s.handoffHysteresis < Math.min(s.aoi.x, s.aoi.y) + s.aoiLeaveMargin, {
    message: "handoffHysteresis must be under the AoI (x and y) plus aoiLeaveMargin in a world split into regions",
  });

export type MMOSettings = z.output<typeof mmoSettingsSchema>;
export type MMOSettingsInput = z.input<typeof mmoSettingsSchema>;

type Overrides = Record<string, unknown> & { mapLimits?: Record<string, unknown> };
type Env = NodeJS.ProcessEnv;

/** Environment variables that override a setting, and how each is read (ops/env.ts). */
const ENV_OVERRIDES: Record<string, (env: Env, name: string, s: Overrides) => void> = {
  MMO_AOI: (env, n, s) => (s.aoi = envVec3(env, n)),
  MMO_AOI_LEAVE_MARGIN: (env, n, s) => (s.aoiLeaveMargin = envNumber(env, n)),
  MMO_MAP_LOWER: (env, n, s) => (s.mapLimits = { ...s.mapLimits, lower: envVec3(env, n) }),
  MMO_MAP_HIGHER: (env, n, s) => (s.mapLimits = { ...s.mapLimits, higher: envVec3(env, n) }),
  MMO_USER_MAX_LIMBO_SECONDS: (env, n, s) => (s.userMaxLimboSeconds = envNumber(env, n)),
  MMO_PROXIMITY_UPDATE_MILLIS: (env, n, s) => (s.proximityUpdateMillis = envNumber(env, n)),
  MMO_MAX_USERS: (env, n, s) => (s.maxUsers = envNumber(env, n)),
  MMO_PATCH_RATE: (env, n, s) => (s.patchRate = envNumber(env, n)),
  MMO_MAX_MESSAGES_PER_SECOND: (env, n, s) => (s.maxMessagesPerSecond = envNumber(env, n)),
  MMO_SPEED: (env, n, s) => (s.speed = envNumber(env, n)),
  MMO_RECONNECT_SECONDS: (env, n, s) => (s.reconnectSeconds = envNumber(env, n)),
  MMO_SHORT_HOLD_SECONDS: (env, n, s) => (s.shortHoldSeconds = envNumber(env, n)),
  MMO_MAX_HELD_PER_ADDRESS: (env, n, s) => (s.maxHeldPerAddress = envNumber(env, n)),
  MMO_MAX_HELD_SHARE: (env, n, s) => (s.maxHeldShare = envNumber(env, n)),
  MMO_DRAIN_SECONDS: (env, n, s) => (s.drainSeconds = envNumber(env, n)),
  MMO_MAX_SPEED: (env, n, s) => (s.maxSpeed = envNumber(env, n)),
  MMO_SERIALIZER: (env, n, s) => (s.serializer = envChoice(env, n, ["fanout", "stock"])),
};

export const SETTINGS_ENV_VARS = Object.keys(ENV_OVERRIDES);

/**
 * Resolves the room's settings, once, where the server is configured (arena.config.ts):
 * the defaults above, then `options`, then the `MMO_*` environment variables. Throws a
 * readable error on any bad value. A room given settings only validates them
 * (`parseSettings`): the environment is read in one place.
 */
export function resolveSettings(options: MMOSettingsInput = {}, env: Env = process.env): MMOSettings {
  const merged = structuredClone(options) as Overrides;
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    if (env[name] !== undefined) apply(env, name, merged);
  }
  if (merged.mapLimits) {
    const defaults = mmoSettingsSchema.parse({}).mapLimits;
    merged.mapLimits = { ...defaults, ...(merged.mapLimits as object) };
  }
  return parseSettings(merged as MMOSettingsInput);
}

/** Validates settings and fills in the defaults (no environment). */
export function parseSettings(settings: MMOSettingsInput = {}): MMOSettings {
  const result = mmoSettingsSchema.safeParse(settings);
  if (!result.success) {
    throw new Error(`Invalid MMO room settings: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
