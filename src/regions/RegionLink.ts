import type { Presence } from "@colyseus/core";
import type { GhostBatch } from "./Ghosts";
import type { RegionName } from "./RegionGrid";

/** A region's count older than this is a dead process's: left out of the world's total. */
const COUNT_STALE_MS = 5000;

/**
 * How the region rooms of one world talk, through the presence they already share (Redis in a
 * cluster, in-process otherwise): one channel per region for ghost batches (one publish per
 * neighbour per patch), and one hash of user counts per world, so every region shows the
 * world-wide `userCount`.
 */
export class RegionLink {
  private readonly listener = (batch: GhostBatch) => this.onBatch(batch);
  private total = 0;
  private own = 0;

  constructor(
    private readonly presence: Presence,
    private readonly world: string,
    readonly region: RegionName,
    private readonly onBatch: (batch: GhostBatch) => void,
  ) {}

  private channel(region: RegionName): string {
    return `mmo:ghosts:${this.world}:${region}`;
  }

  private get countsKey(): string {
    return `mmo:regions:${this.world}`;
  }

  async start(): Promise<void> {
    await this.presence.subscribe(this.channel(this.region), this.listener);
  }

  /** Sends this patch's batches, one publish per neighbour. */
  send(batches: Map<RegionName, GhostBatch>): void {
    for (const [target, batch] of batches) void this.presence.publish(this.channel(target), batch);
  }

  /** This region's own users (the world's total follows at the next `refreshCount`). */
  setCount(users: number): void {
    this.own = users;
  }

  /** The world's users over all live regions, as of the last refresh (this region's own always current). */
  worldCount(): number {
    return this.total;
  }

  /** Publishes this region's count and sums everyone's (once a second, not per patch). */
  async refreshCount(now = Date.now()): Promise<number> {
    await this.presence.hset(this.countsKey, this.region || "0_0", `${this.own}:${now}`);
    await this.presence.expire(this.countsKey, 60);
    const all = (await this.presence.hgetall(this.countsKey)) ?? {};
    let total = 0;
    for (const [region, value] of Object.entries(all)) {
      if (region === (this.region || "0_0")) continue;
      const [count, at] = String(value).split(":").map(Number);
      if (Number.isFinite(count) && now - at < COUNT_STALE_MS) total += count;
    }
    this.total = total + this.own;
    return this.total;
  }

  async stop(): Promise<void> {
    this.presence.unsubscribe(this.channel(this.region), this.listener);
    await this.presence.hdel(this.countsKey, this.region || "0_0");
  }
}
