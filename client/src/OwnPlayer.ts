import type { InputAck, KeyState } from "@shared/movement";
import { type MoveRules, Prediction } from "./Prediction";

/** Beyond this correction the drawn player jumps (a teleport, a spawn, a long stall). */
const SNAP_DISTANCE = 160;
/** Smaller corrections fade out with this time constant (ms): over a few frames, no jump. */
const CORRECTION_MS = 80;
/** An idle player this far from the server's position was moved by the server. */
const REBASE_DISTANCE = 0.01;

/**
 * The own player as drawn: the prediction (Prediction: acks plus a replay of the inputs
 * since) plus a fading offset. When an ack changes the prediction (the server disagreed a
 * little) the offset first absorbs the change, so the sprite does not jump, then fades.
 * Lag alone never changes the prediction, so it never pulls the sprite back.
 */
export class OwnPlayer {
  /** Where the sprite is drawn. */
  x: number;
  y: number;
  private readonly prediction: Prediction;
  private offset = { x: 0, y: 0 };
  /** The last frame's time: acks between frames are compared at it. */
  private now = Number.NEGATIVE_INFINITY;

  constructor(start: { x: number; y: number }) {
    this.x = start.x;
    this.y = start.y;
    this.prediction = new Prediction(start);
  }

  /** Keys that changed, in effect from local time `start`: the `input` message to send. */
  input(keys: KeyState, start: number): KeyState & { seq: number } {
    return { ...keys, seq: this.prediction.input(keys, start) };
  }

  /** The position predicted for the last frame (without the fading offset). */
  predicted(rules: MoveRules): { x: number; y: number } {
    return this.prediction.at(this.now, rules);
  }

  /** The server's `ack`. */
  ack(ack: InputAck, rules: MoveRules): void {
    this.correct(rules, () => this.prediction.ack(ack));
  }

  /**
   * Draws the frame at `now` (`dtMs` after the last one). `server` is the player's position in
   * the state: while nothing awaits an ack and no key is held, it is the truth (it moves only
   * when the server moves the player itself).
   */
  frame(now: number, dtMs: number, server: { x: number; y: number }, rules: MoveRules): void {
    this.now = now;
    if (this.prediction.idle(now)) {
      const p = this.prediction.at(now, rules);
      if (Math.abs(p.x - server.x) > REBASE_DISTANCE || Math.abs(p.y - server.y) > REBASE_DISTANCE) {
        this.correct(rules, () => this.prediction.rebase(server));
      }
    }
    const fade = Math.exp(-Math.max(0, dtMs) / CORRECTION_MS);
    this.offset = { x: this.offset.x * fade, y: this.offset.y * fade };
    if (Math.abs(this.offset.x) < 0.01 && Math.abs(this.offset.y) < 0.01) this.offset = { x: 0, y: 0 };
    const p = this.prediction.at(now, rules);
    this.x = p.x + this.offset.x;
    this.y = p.y + this.offset.y;
  }

  /** Applies a change to the prediction without a jump: small ones fade, large ones snap. */
  private correct(rules: MoveRules, change: () => void): void {
    const before = this.prediction.at(this.now, rules);
    change();
    const after = this.prediction.at(this.now, rules);
    this.offset = { x: this.offset.x + before.x - after.x, y: this.offset.y + before.y - after.y };
    if (Math.hypot(this.offset.x, this.offset.y) > SNAP_DISTANCE) this.offset = { x: 0, y: 0 };
  }
}
