import { type InputAck, type KeyState, anyKeyHeld, stepPosition } from "@shared/movement";
import type { Vec3 } from "@shared/vector";

/** What movement needs from the world: the state's `speed` and map limits. */
export interface MoveRules {
  speed: number;
  lower: Vec3;
  higher: Vec3;
}

/** A key state the client sent, and when (local ms) it took effect here. */
interface Input {
  seq: number;
  keys: KeyState;
  start: number;
}

/** Inputs older than this without an ack are given up on (a refused input never gets one). */
const UNACKED_GIVE_UP_MS = 2000;
/** At most this many inputs wait for an ack; beyond, the oldest are forgotten. */
const MAX_PENDING = 128;

/**
 * Client-side prediction with server reconciliation, as pure bookkeeping. Every key state
 * the client sends gets a `seq` and the local time it took effect; the server acknowledges
 * the newest input it applies (`ack`: its seq, how long it has applied it, the position that
 * gave). The predicted position is the last ack's position plus a replay, with the same
 * `stepPosition` the server runs, of what the client did since: the rest of the acked input,
 * then every later one for as long as it lasted here. The server running a round trip
 * behind therefore never pulls the prediction back; only a real disagreement (a teleport,
 * an input held longer there than here) moves it.
 */
export class Prediction {
  /** Where the server had the player after `baseMs` of input `baseSeq` (seq 0: before any input). */
  private base: { x: number; y: number };
  private baseSeq = 0;
  private baseMs = 0;
  /** The acked input (if still current) and every later one, oldest first. */
  private inputs: Input[] = [];
  private nextSeq = 1;

  constructor(start: { x: number; y: number }) {
    this.base = { x: start.x, y: start.y };
  }

  /** New keys, in effect here from local time `start`; returns the input's seq, to send. */
  input(keys: KeyState, start: number): number {
    const seq = this.nextSeq++;
    this.inputs.push({ seq, keys: { ...keys }, start });
    if (this.inputs.length > MAX_PENDING) this.inputs.splice(0, this.inputs.length - MAX_PENDING);
    return seq;
  }

  /** The server's word on the inputs up to `ack.seq`. Old or unknown acks change nothing. */
  ack(ack: InputAck): void {
    if (ack.seq < this.baseSeq || (ack.seq === this.baseSeq && ack.ms < this.baseMs)) return;
    if (ack.seq >= this.nextSeq) return;
    this.inputs = this.inputs.filter((i) => i.seq >= ack.seq);
    this.base = { x: ack.x, y: ack.y };
    this.baseSeq = ack.seq;
    this.baseMs = ack.ms;
  }

  /**
   * True when nothing is waiting for the server and no key is held: the server's position is
   * then the player's (an idle teleport shows through `rebase`).
   */
  idle(now: number): boolean {
    const newest = this.inputs[this.inputs.length - 1];
    if (!newest) return true;
    if (anyKeyHeld(newest.keys)) return false;
    return newest.seq === this.baseSeq || now - newest.start > UNACKED_GIVE_UP_MS;
  }

  /** Takes `server` as the position, with nothing to replay (only while `idle`). */
  rebase(server: { x: number; y: number }): void {
    this.base = { x: server.x, y: server.y };
    this.baseSeq = this.nextSeq - 1;
    this.baseMs = 0;
    this.inputs = [];
  }

  /** The predicted position at local time `now`. */
  at(now: number, rules: MoveRules): { x: number; y: number } {
    let p: Vec3 = { x: this.base.x, y: this.base.y, z: 0 };
    const list = this.inputs;
    for (let i = 0; i < list.length; i++) {
      const input = list[i];
      const end = i + 1 < list.length ? list[i + 1].start : now;
      let ms = Math.max(0, end - input.start);
      if (input.seq === this.baseSeq) ms = Math.max(0, ms - this.baseMs);
      if (ms > 0 && anyKeyHeld(input.keys)) p = stepPosition(p, input.keys, rules.speed, ms, rules.lower, rules.higher);
    }
    return { x: p.x, y: p.y };
  }
}
