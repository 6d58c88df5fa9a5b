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
