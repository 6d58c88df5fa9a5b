import { Client, type Room } from "@colyseus/sdk";
import type { MMOState } from "../../src/shared/schema";
import { joinWorld } from "../../src/shared/sdk";

/**
 * An honest player during an attack: joins a world, takes a position, holds a direction key
 * (so the server has something to send every patch) and counts the patches it receives.
 */
export class HonestPlayer {
  room!: Room<MMOState>;
  private patches = 0;
  private windowStart = 0;

  static async join(endpoint: string, world: string, name = "Honest"): Promise<HonestPlayer> {
    const p = new HonestPlayer();
    p.room = await joinWorld(new Client(endpoint), { world, name });
    p.room.onStateChange(() => p.patches++);
    p.room.send("position", { x: 3000, y: 3000 });
    p.room.send("input", { up: false, down: false, left: false, right: true });
    // Walk back and forth so the player never stops at the map's edge.
    let right = true;
    const turn = setInterval(() => {
      right = !right;
      if (p.room.connection.isOpen) p.room.send("input", { up: false, down: false, left: !right, right });
    }, 2000);
    p.room.onLeave(() => clearInterval(turn));
    p.startWindow();
    return p;
  }

  startWindow(): void {
    this.patches = 0;
    this.windowStart = performance.now();
  }

  /** Patches per second since `startWindow`. */
  rate(): number {
    const seconds = (performance.now() - this.windowStart) / 1000;
    return seconds > 0 ? this.patches / seconds : 0;
  }

  get connected(): boolean {
    return this.room.connection.isOpen;
  }

  async leave(): Promise<void> {
    if (this.room.connection.isOpen) await this.room.leave().catch(() => {});
  }
}

/** The p-th percentile (0..100) of `values`, or NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * An honest client of the process bridge during an attack: it sends a `ping` every 100 ms
 * to its own room's echo backend (test/fixtures/echo-backend.mjs) and times each echo.
 * A ping still unanswered counts as its age when the window is read, so a frozen server
 * shows up as a long echo, never as no sample.
 */
export class HonestEcho {
  private readonly sentAt = new Map<number, number>();
  private rtts: number[] = [];
  private next = 0;
  private timer?: ReturnType<typeof setInterval>;

  private constructor(private readonly room: Room) {}

  static async join(endpoint: string, room = "honest-echo"): Promise<HonestEcho> {
    const joined = await new Client(endpoint).joinOrCreate("process", { room });
    const echo = new HonestEcho(joined);
    joined.onMessage("*", () => {});
    joined.onMessage("echo", (m: { type?: string; data?: { i?: number } }) => {
      const sent = m.type === "ping" ? echo.sentAt.get(m.data?.i ?? -1) : undefined;
      if (sent === undefined) return;
      echo.sentAt.delete(m.data!.i!);
      echo.rtts.push(performance.now() - sent);
    });
    echo.timer = setInterval(() => {
      if (!joined.connection.isOpen) return;
      echo.sentAt.set(echo.next, performance.now());
      joined.send("ping", { i: echo.next++ });
    }, 100);
    return echo;
  }

  startWindow(): void {
    this.rtts = [];
    this.sentAt.clear();
  }

  /** The echo round trip's p99 (ms) since `startWindow`, pings still unanswered counted at their age. */
  p99(): number {
    const now = performance.now();
    return percentile([...this.rtts, ...[...this.sentAt.values()].map((t) => now - t)], 99);
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    if (this.room.connection.isOpen) await this.room.leave().catch(() => {});
  }
}
