import { inspect } from "node:util";
import { logger } from "@colyseus/core";
import { Redis } from "ioredis";
import { type WorldSnapshot, type WorldStore, checkWorldName, readSnapshot } from "./WorldStore";

export interface RedisWorldStoreOptions {
  /** How long a world no one saves is kept (refreshed on every save); 0 keeps it forever. Default 30 days. */
  ttlSeconds?: number;
}

export const DEFAULT_WORLD_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Atomically: the current value (if any) becomes the previous generation, then the new one
 * is set; both with the TTL (ms; 0 for none). KEYS: world, prev. ARGV: text, ttl.
 */
const SAVE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) else redis.call('PERSIST', KEYS[2]) end
end
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

type ScriptedRedis = Redis & { mmoSaveWorld(world: string, prev: string, text: string, ttlMs: string): Promise<number> };

/** Each store's connection, out of reach of property enumeration and JSON (its options hold the URL, maybe a password). */
const connections = new WeakMap<RedisWorldStore, { redis: ScriptedRedis; ttlSeconds: number }>();

/**
 * Worlds in Redis, shared by every process of a cluster: `mmo:world:<name>` and its previous
 * generation `mmo:world:<name>:prev`, both expiring `ttlSeconds` after the last save. A value
 * that does not parse is logged, renamed `mmo:world:<name>:corrupt:<ISO time>` (same TTL) and
 * the previous generation loaded instead (or a new world). To reset a world, delete both keys.
 */
export class RedisWorldStore implements WorldStore {
  constructor(url: string, options: RedisWorldStoreOptions = {}) {
    const ttl = options.ttlSeconds ?? DEFAULT_WORLD_TTL_SECONDS;
    if (!Number.isFinite(ttl) || ttl < 0) throw new Error(`RedisWorldStore: ttlSeconds must be a number >= 0 (0: no expiry), got ${ttl}`);
    const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 }) as ScriptedRedis;
    redis.defineCommand("mmoSaveWorld", { numberOfKeys: 2, lua: SAVE_SCRIPT });
    connections.set(this, { redis, ttlSeconds: ttl });
  }

  /** Seconds a world is kept after its last save (0: forever). */
  get ttlSeconds(): number {
    return connections.get(this)!.ttlSeconds;
  }

  private get redis(): ScriptedRedis {
    return connections.get(this)!.redis;
  }

  private key(world: string, suffix = ""): string {
    checkWorldName(world);
    return `mmo:world:${world}${suffix}`;
  }

  async load(world: string): Promise<WorldSnapshot | undefined> {
    const key = this.key(world);
    const prev = this.key(world, ":prev");
    const text = await this.redis.get(key);
    if (text === null) {
      const fallback = await this.redis.get(prev);
      if (fallback === null) return undefined;
      const older = readSnapshot(fallback);
      logger.error(`[mmo store] world "${world}": Redis key ${key} is missing; ${older.snapshot ? `loading the previous generation ${prev}` : `the previous generation ${prev} is unreadable too (${older.problem}): starting a new world`}`);
      return older.snapshot;
    }
    const current = readSnapshot(text);
    if (current.snapshot) return current.snapshot;

    const aside = this.key(world, `:corrupt:${new Date().toISOString()}`);
    let moved = `renamed ${aside}`;
    try {
      const ttlMs = String(Math.round(this.ttlSeconds * 1000));
      const multi = this.redis.multi().rename(key, aside);
      const results = await (this.ttlSeconds > 0 ? multi.pexpire(aside, ttlMs) : multi.persist(aside)).exec();
      const failed = results?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    } catch (e) {
      moved = `could not be renamed (${(e as Error).message})`;
    }
    const fallback = await this.redis.get(prev);
    const older = fallback === null ? { problem: "missing" } : readSnapshot(fallback);
    logger.error(
      `[mmo store] world "${world}": Redis key ${key} is unreadable (${current.problem}); ${moved}; ` +
        (older.snapshot ? `loading the previous generation ${prev}` : `previous generation ${prev}: ${older.problem}; starting a new world`),
    );
    return older.snapshot;
  }

  async save(world: string, snapshot: WorldSnapshot): Promise<void> {
    // One connection: one process's saves of a world reach Redis in order (the last wins).
    await this.redis.mmoSaveWorld(this.key(world), this.key(world, ":prev"), JSON.stringify(snapshot), String(Math.round(this.ttlSeconds * 1000)));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  toJSON(): string {
    return "[RedisWorldStore]";
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}
