import { Redis } from "ioredis";
import { type WorldSnapshot, type WorldStore, parseSnapshot } from "./WorldStore";

/** Worlds in Redis (one key per world), shared by every process of a cluster. */
export class RedisWorldStore implements WorldStore {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  }

  async load(world: string): Promise<WorldSnapshot | undefined> {
    const text = await this.redis.get(`mmo:world:${world}`);
    return text === null ? undefined : parseSnapshot(text);
  }

  async save(world: string, snapshot: WorldSnapshot): Promise<void> {
    await this.redis.set(`mmo:world:${world}`, JSON.stringify(snapshot));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
