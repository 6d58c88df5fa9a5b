import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseShell } from "shell-quote";

/**
 * Environment variables: the one place they are parsed. Each reader names the variable in
 * its error, so a bad deployment fails at start with a line that says what to fix.
 * (MMO_* room settings are listed in framework/settings.ts and read with these readers.)
 */

type Env = NodeJS.ProcessEnv;

/**
 * A deployment the server refuses to start with: the entry point prints its message alone, on
 * one line (it names the variable and what to do), instead of a stack trace.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** In production, a configured monitor password shorter than this refuses to start (a generated one is 16 characters). */
export const MIN_MONITOR_PASSWORD_LENGTH = 16;

/** A number, or undefined when the variable is unset. */
export function envNumber(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${value}"`);
  return n;
}

/** A whole number >= 0, or undefined when the variable is unset. */
export function envCount(env: Env, name: string): number | undefined {
  const n = envNumber(env, name);
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new ConfigError(`${name} must be a whole number >= 0, got "${env[name]}"`);
  return n;
}

/** A whole number >= 1 (0 would lock everyone out, not lift the limit), or undefined when unset. */
function positiveCount(env: Env, name: string): number | undefined {
  const n = envCount(env, name);
  if (n === 0) throw new ConfigError(`${name} must be a whole number >= 1, got "${env[name]}"`);
  return n;
}

/** "x,y" or "x,y,z" (z defaults to 0), or undefined when the variable is unset. */
export function envVec3(env: Env, name: string): { x: number; y: number; z: number } | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const parts = value.split(",");
  if (parts.length < 2 || parts.length > 3) throw new ConfigError(`${name} must be "x,y" or "x,y,z", got "${value}"`);
  const [x, y, z = 0] = parts.map((part) => envNumber({ [name]: part }, name)!);
  return { x, y, z };
}

/**
 * A command line with shell quoting (`python3 "my game.py" --level 2`), split by shell-quote;
 * no shell runs it, so operators, globs and substitutions are refused.
 */
export function commandLine(env: Env, name: string): string[] | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const words = parseShell(value, (key) => `$${key}`);
  if (words.length === 0 || words.some((w) => typeof w !== "string")) throw new ConfigError(`${name} must be a plain command line (quotes allowed; no pipes, redirections or globs), got "${value}"`);
  return words as string[];
}

/** A non-empty string, or undefined when the variable is unset or empty. */
export function envString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** One of `choices`, or undefined when unset. */
export function envChoice<T extends string>(env: Env, name: string, choices: readonly T[]): T | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) throw new ConfigError(`${name} must be one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

/** What the server process reads from its environment, besides the MMO_* room settings. */
export interface ServerEnv {
  /** The HTTP/WebSocket port (`PORT`, default 2567). */
  port: number;
  /** `NODE_ENV === "production"`: the generated monitor password is not printed. */
  production: boolean;
  /**
   * `NODE_ENV === "test"` (vitest sets it): a test that boots arena.config.ts with
   * @colyseus/testing gets a fresh temporary data directory and no drain (shutdown() is quick).
   */
  testing: boolean;
  /** `REDIS_URL`: presence, matchmaking and world store in Redis (scale-out). */
  redisUrl?: string;
  /** `PUBLIC_ADDRESS`: how clients reach this very process (required with Redis). */
  publicAddress?: string;
  /** `MMO_DATA_DIR` (default ./data): world files and the identity key without Redis. */
  dataDir: string;
  /** `MMO_SNAPSHOT_SECONDS` (default 5): how often worlds are saved. */
  snapshotSeconds: number;
  /** `IDENTITY_SECRET`: the key guest identities are signed with (else a key file). */
  identitySecret?: string;
  /** `MONITOR_USER` (default admin) and `MONITOR_PASSWORD` (else one is generated). */
  monitorUser: string;
  monitorPassword?: string;
  /** `MMO_MONITOR_FAILS_PER_15MIN` (default 10): wrong `/monitor` logins per client address per 15 minutes, then 429. */
  monitorFailsPer15Min: number;
  /** `PROCESS_COMMAND`: the process bridge's backend, a command line with shell quoting. */
  processCommand: string[];
  /** `GAME_GEMS`, `GAME_NPCS`: the demo game's counts. */
  gameGems?: number;
  gameNpcs?: number;
  /** `STATS_INTERVAL_MS`: print a STATS line this often (the load test reads them); 0 = off. */
  statsIntervalMs: number;
  /** What strangers may do over HTTP (see src/ops/admission.ts). */
  http: HttpLimits;
  /** `PLAYGROUND=1`: serve /playground (never by default). */
  playground: boolean;
  /** `METRICS_TOKEN`: /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** `METRICS_PUBLIC=1`: the operator's explicit choice of a /metrics without a token in production. */
  metricsPublic: boolean;
}

/** HTTP admission: CORS, body sizes, matchmaking rates, room caps. */
export interface HttpLimits {
  /** `CORS_ORIGINS` (comma-separated; default the Vite dev origin): origins allowed cross-origin, besides the server's own. */
  corsOrigins: string[];
  /** `MMO_MAX_BODY_BYTES` (default 4096): a larger request body is refused with 413. */
  maxBodyBytes: number;
  /** `MMO_MATCHMAKE_PER_MINUTE` (default 60): matchmaking requests per client IP per minute (then 429). */
  matchmakePerMinute: number;
  /** `TRUST_PROXY` (default 0): proxies in front whose X-Forwarded-For names the client. */
  trustProxy: number;
  /** `MMO_FLOOD_COOLDOWN_SECONDS` (default 10): an address a room closed for flooding may not join again for this long (0: off). */
  floodCooldownSeconds: number;
  /** `MMO_MAX_ROOMS` (default 200): live rooms of every type on this process. */
  maxRooms: number;
  /** `MMO_MAX_WORLDS` (default 100) and `PROCESS_MAX_ROOMS` (default 20): live rooms per type on this process. */
  maxRoomsByType: Record<string, number>;
  /** `MMO_ROOMS_PER_ADDRESS` (default 4): live rooms one client address created on this process, all types together. */
  roomsPerAddress: number;
}

/** The Vite dev server's origin: `npm run dev` serves the client there. */
export const DEV_CLIENT_ORIGINS = ["http://localhost:5173", "http://127.0.0.1:5173"];

export function readServerEnv(env: Env = process.env): ServerEnv {
  const redisUrl = envString(env, "REDIS_URL");
  const publicAddress = envString(env, "PUBLIC_ADDRESS");
  if (redisUrl && !publicAddress) throw new ConfigError("REDIS_URL is set but PUBLIC_ADDRESS is not: each process needs its own public address");
  // Each process would make its own key: a token from one would be refused by the others.
  if (redisUrl && !envString(env, "IDENTITY_SECRET")) throw new ConfigError("REDIS_URL is set but IDENTITY_SECRET is not: every process of a cluster must sign identities with the same secret");
  const production = env.NODE_ENV === "production";
  const testing = env.NODE_ENV === "test";
  const monitorPassword = envString(env, "MONITOR_PASSWORD");
  // Guessable by a patient stranger even at 10 tries per 15 minutes per address (a botnet has many).
  if (production && monitorPassword !== undefined && monitorPassword.length < MIN_MONITOR_PASSWORD_LENGTH) {
    throw new ConfigError(`MONITOR_PASSWORD must be at least ${MIN_MONITOR_PASSWORD_LENGTH} characters in production (it has ${monitorPassword.length}): choose a longer one, or unset it to have one generated`);
  }
  const snapshotSeconds = envNumber(env, "MMO_SNAPSHOT_SECONDS") ?? 5;
  if (!(snapshotSeconds > 0)) throw new ConfigError(`MMO_SNAPSHOT_SECONDS must be > 0, got "${env.MMO_SNAPSHOT_SECONDS}"`);
  return {
    port: envCount(env, "PORT") ?? 2567,
    production,
    testing,
    redisUrl,
    publicAddress,
    dataDir: envString(env, "MMO_DATA_DIR") ?? (testing ? mkdtempSync(join(tmpdir(), "mmo-test-data-")) : "data"),
    snapshotSeconds,
    identitySecret: envString(env, "IDENTITY_SECRET"),
    monitorUser: envString(env, "MONITOR_USER") ?? "admin",
    monitorPassword,
    monitorFailsPer15Min: positiveCount(env, "MMO_MONITOR_FAILS_PER_15MIN") ?? 10,
    processCommand: commandLine(env, "PROCESS_COMMAND") ?? ["python3", "examples/bunny/server.py"],
    gameGems: envCount(env, "GAME_GEMS"),
    gameNpcs: envCount(env, "GAME_NPCS"),
    statsIntervalMs: envCount(env, "STATS_INTERVAL_MS") ?? 0,
    http: {
      corsOrigins: envString(env, "CORS_ORIGINS")?.split(",").map((o) => o.trim().replace(/\/$/, "")).filter(Boolean) ?? DEV_CLIENT_ORIGINS,
      maxBodyBytes: envCount(env, "MMO_MAX_BODY_BYTES") ?? 4096,
      matchmakePerMinute: envCount(env, "MMO_MATCHMAKE_PER_MINUTE") ?? 60,
      trustProxy: envCount(env, "TRUST_PROXY") ?? 0,
      floodCooldownSeconds: envNumber(env, "MMO_FLOOD_COOLDOWN_SECONDS") ?? 10,
      maxRooms: envCount(env, "MMO_MAX_ROOMS") ?? 200,
      maxRoomsByType: { mmo: envCount(env, "MMO_MAX_WORLDS") ?? 100, process: envCount(env, "PROCESS_MAX_ROOMS") ?? 20 },
      roomsPerAddress: positiveCount(env, "MMO_ROOMS_PER_ADDRESS") ?? 4,
    },
    playground: env.PLAYGROUND === "1",
    metricsToken: envString(env, "METRICS_TOKEN"),
    metricsPublic: envChoice(env, "METRICS_PUBLIC", ["0", "1"]) === "1",
  };
}
