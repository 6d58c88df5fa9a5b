import { type KeyState, anyKeyHeld, stepPosition } from "@shared/movement";
import type { Vec3 } from "@shared/vector";

/** Beyond this error the prediction jumps to the server (a teleport, a spawn, a long stall). */
const SNAP_DISTANCE = 160;
/** How fast the prediction eases toward the server once the keys are released, per ms. */
const SETTLE_RATE = 1 / 120;

/**
 * Client-side prediction of the own player: the same key-state movement the server runs
 * (`stepPosition`), applied every frame so keys respond at once, then reconciled with the
 * server's position. While moving, the server trails by about one round trip, which is
 * expected and left alone; when the keys are released the prediction eases onto the
 * server's position, and only a large error (a teleport) snaps.
 */
export class OwnPlayer {
  x: number;
  y: number;
  private z: number;

  constructor(start: Vec3) {
    this.x = start.x;
    this.y = start.y;
    this.z = start.z;
  }

  /** Advances the prediction by `dtMs` with the held keys. */
  step(keys: KeyState, speed: number, dtMs: number, lower: Vec3, higher: Vec3): void {
    if (!anyKeyHeld(keys)) return;
    const next = stepPosition({ x: this.x, y: this.y, z: this.z }, keys, speed, dtMs, lower, higher);
    this.x = next.x;
    this.y = next.y;
  }

  /** Pulls the prediction toward the authoritative `server` position. */
  reconcile(server: { x: number; y: number }, moving: boolean, dtMs: number): void {
    const ex = server.x - this.x;
    const ey = server.y - this.y;
    const error = Math.hypot(ex, ey);
    if (error > SNAP_DISTANCE) {
      this.x = server.x;
      this.y = server.y;
      return;
    }
    if (moving) return;
    const k = Math.min(1, dtMs * SETTLE_RATE);
    this.x += ex * k;
    this.y += ey * k;
    if (Math.abs(server.x - this.x) < 0.05 && Math.abs(server.y - this.y) < 0.05) {
      this.x = server.x;
      this.y = server.y;
    }
  }
}
