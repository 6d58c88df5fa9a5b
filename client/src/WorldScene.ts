import type { Room } from "@colyseus/sdk";
import Phaser from "phaser";
import type { KeyState } from "@shared/movement";
import type { Entity, MMOState } from "@shared/schema";
import { readVar } from "@shared/vars";
import { type ProximityUpdate, onProximityUpdate, onServerMessage } from "@shared/sdk";
import { Interpolator } from "./Interpolator";
import { OwnPlayer } from "./OwnPlayer";
import { PatchTimeline } from "./PatchTimeline";
import type { MoveRules } from "./Prediction";
import { colorFor, makeTextures } from "./textures";

/** One drawn remote entity: a player, a gem or an NPC. */
interface EntityView {
  id: string;
  collection: "players" | "items";
  kind: string;
  body: Phaser.GameObjects.Image;
  label?: Phaser.GameObjects.Text;
  interp: Interpolator;
  /** Counts views made: a view kept across a handoff keeps its serial (tests read it). */
  serial: number;
}

const NO_KEYS: KeyState = { up: false, down: false, left: false, right: false };
const BUBBLE_MS = 4000;
/** Click-to-move stops this close to the target. */
const ARRIVE_DISTANCE = 6;
/**
 * New keys count from the previous frame (so a release stops the player where the last frame
 * showed it), but never from longer ago than this (a stalled frame).
 */
const MAX_KEY_LEAD_MS = 100;
/** The patch interval assumed until the state says (older servers never do). */
const DEFAULT_PATCH_RATE = 50;

/**
 * The world: draws what the room's state holds (which is exactly this client's AoI),
 * predicts the own player (OwnPlayer, reconciled with the server's `ack`s), interpolates the
 * others (Interpolator, on the PatchTimeline's steady clock), and turns keys and clicks into
 * `input` key states (sent on change only, each with a `seq`).
 */
export class WorldScene extends Phaser.Scene {
  frames = 0;
  room?: Room<MMOState>;
  own?: OwnPlayer;
  private readonly views = new Map<string, EntityView>();
  private ownBody?: Phaser.GameObjects.Image;
  private ownRing?: Phaser.GameObjects.Image;
  private ownLabel?: Phaser.GameObjects.Text;
  private readonly bubbles = new Map<string, { text: Phaser.GameObjects.Text; until: number }>();
  private cursors?: Phaser.Types.Input.Keyboard.CursorKeys;
  private wasd?: Record<"up" | "down" | "left" | "right", Phaser.Input.Keyboard.Key>;
  private clickTarget?: { x: number; y: number };
  private sentKeys: KeyState = NO_KEYS;
  private typing = false;
  debugOn = false;
  private debug?: Phaser.GameObjects.Graphics;
  private mapDrawn = false;
  private unsubscribe?: () => void;
  private offAck?: () => void;
  /** The room a handoff switched to, until its first state arrives (the old room is drawn till then). */
  private pending?: Room<MMOState>;
  private unsubscribePending?: () => void;
  /** The first proximity update of a room a handoff switched to: entities already drawn keep their sprites. */
  private adopting = false;
  /** Send the keys at the next frame even if unchanged (a new room starts from the old room's keys). */
  private resendKeys = false;
  /** The movement rules last read from a state (a new room's state holds none until it arrives). */
  private lastRules?: MoveRules;
  private viewSerial = 0;
  /** Handoffs this scene went through (tests read it). */
  switches = 0;
  /** When each patch's positions were true, and how far back remote entities are drawn. */
  private readonly timeline = new PatchTimeline();

  /** @param sendKeys sends the held keys to the server (`input`, with its seq); called on change only. */
  constructor(private readonly sendKeys: (input: KeyState & { seq: number }) => void) {
    super("world");
  }

  create(): void {
    makeTextures(this);
    this.cameras.main.setBackgroundColor("#0b1020");
    this.debug = this.add.graphics().setDepth(50);
    const kb = this.input.keyboard!;
    this.cursors = kb.createCursorKeys();
    this.wasd = kb.addKeys({ up: "W", down: "S", left: "A", right: "D" }) as EntityViewKeys;
    kb.on("keydown-F3", () => {
      this.debugOn = !this.debugOn;
      // Zoom out so the AoI box (larger than the view on purpose) and its border are visible.
      this.cameras.main.setZoom(this.debugOn ? 0.5 : 1);
    });
    this.input.on("pointerdown", (p: Phaser.Input.Pointer) => {
      if (!this.typing) this.clickTarget = { x: p.worldX, y: p.worldY };
    });
  }

  /** Starts drawing a joined room. */
  attach(room: Room<MMOState>): void {
    if (this.room && this.room !== room) this.clearWorld();
    this.dropPending();
    this.room = room;
    this.unsubscribe?.();
    // Before the proximity listener: entities it adds this patch start at this patch's stamp.
    const patched = () => this.onPatch();
    room.onStateChange(patched);
    this.offAck?.();
    this.offAck = onServerMessage(room, "ack", (ack) => this.own?.ack(ack, this.rules()));
    const offProximity = onProximityUpdate(room, (u) => this.applyProximity(u));
    this.unsubscribe = () => {
      room.onStateChange.remove(patched);
      offProximity();
    };
  }

  /**
   * A handoff: the same player goes on in `to`, a neighbouring region's room. Nothing is
   * cleared: until `to`'s first state arrives the old room's is drawn; then every sprite whose
   * entity `to` holds (same id) stays as it is, with its interpolation, and only the others go.
   * The own player keeps its prediction; `to`'s acks reconcile it from now on (the old room's
   * are for inputs `to` has not seen), and the held keys are sent again (with the next seq).
   */
  switchRoom(to: Room<MMOState>): void {
    if (to === this.room) return;
    this.dropPending();
    this.pending = to;
    this.switches++;
    // The new room moves the player with the keys the old room had when it offered the handoff:
    // tell it the keys held now, at once (not at the next frame: every ms it walks on stale keys
    // is a correction later). Sends already go to `to`.
    if (this.own) this.sendKeys(this.own.input(this.sentKeys, performance.now()));
    else this.resendKeys = true;
    // Only the new room's acks from now on: the old room never sees the inputs sent from now on,
    // so its acks (it applies the last one it got until it closes) would pull the prediction on.
    this.offAck?.();
    this.offAck = onServerMessage(to, "ack", (ack) => this.own?.ack(ack, this.rules()));
    // Registered before the state arrives, so its first update lists everything the state holds.
    const patched = () => {
      if (this.pending === to) this.adopt(to);
      if (this.room === to) this.onPatch();
    };
    to.onStateChange(patched);
    const offProximity = onProximityUpdate(to, (u) => {
      if (this.room !== to) return;
      this.applyProximity(u);
      this.adopting = false;
    });
    this.unsubscribePending = () => {
      to.onStateChange.remove(patched);
      offProximity();
    };
  }

  /** The switched-to room's first state is here: draw it from now on, keeping what it still holds. */
  private adopt(to: Room<MMOState>): void {
    // The old room's listeners go.
    this.unsubscribe?.();
    this.unsubscribe = this.unsubscribePending;
    this.unsubscribePending = undefined;
    this.pending = undefined;
    this.room = to;
    const state = to.state;
    for (const [key, view] of this.views) {
      if (!state[view.collection]?.has(view.id)) this.removeView(key);
    }
    this.adopting = true;
  }

  private dropPending(): void {
    this.unsubscribePending?.();
    this.unsubscribePending = undefined;
    this.pending = undefined;
    this.adopting = false;
  }

  /** Stamps a patch's arrival (not the frame that will draw it) and records remote positions. */
  private onPatch(): void {
    const state = this.room?.state;
    if (!state) return;
    const stamp = this.timeline.patch(performance.now(), state.patchRate || DEFAULT_PATCH_RATE);
    for (const view of this.views.values()) {
      const entity = state[view.collection]?.get(view.id);
      if (entity) view.interp.push(stamp, entity.x, entity.y, this.timeline.previous);
    }
  }

  /** The stamp for something that appears now: the newest patch's. */
  private stampNow(): number {
    const t = this.timeline.latest;
    return Number.isNaN(t) ? performance.now() : t;
  }

  private rules(): MoveRules {
    const state = this.room?.state;
    // A state without its settings yet (a room just switched to): the last ones (a world's rooms share them).
    if ((!state?.speed || !state.higherMapLimit) && this.lastRules) return this.lastRules;
    const rules = { speed: state!.speed, lower: state!.lowerMapLimit, higher: state!.higherMapLimit };
    if (rules.speed > 0 && rules.higher) this.lastRules = rules;
    return rules;
  }

  /** Forgets everything drawn for the previous room (a move to another server). */
  private clearWorld(): void {
    for (const key of [...this.views.keys()]) this.removeView(key);
    for (const b of this.bubbles.values()) b.text.destroy();
    this.bubbles.clear();
    this.ownBody?.destroy();
    this.ownRing?.destroy();
    this.ownLabel?.destroy();
    this.ownBody = this.ownRing = this.ownLabel = undefined;
    this.own = undefined;
    this.sentKeys = NO_KEYS;
    this.lastRules = undefined;
  }

  /** After a reconnection the state is re-sent: drop what is gone, add what is new. */
  resync(): void {
    const state = this.room?.state;
    if (!state) return;
    for (const [key, view] of this.views) {
      if (!state[view.collection]?.has(view.id)) this.removeView(key);
    }
    // The server stopped the player when the connection dropped: send the held keys again.
    this.sentKeys = NO_KEYS;
    const now = this.stampNow();
    state.players?.forEach((p, id) => {
      if (id !== this.room!.sessionId && !this.views.has(`players:${id}`)) this.addView("players", id, p, p, now);
    });
    state.items?.forEach((it, id) => {
      if (!this.views.has(`items:${id}`)) this.addView("items", id, it, it, now);
    });
  }

  /** While the chat input is open, keys type instead of moving. */
  setTyping(typing: boolean): void {
    this.typing = typing;
    this.input.keyboard!.enabled = !typing;
    if (typing) this.input.keyboard!.resetKeys();
  }

  showBubble(playerId: string, text: string): void {
    this.bubbles.get(playerId)?.text.destroy();
    const bubble = this.add
      .text(0, 0, text.length > 60 ? `${text.slice(0, 57)}…` : text, {
        fontFamily: "system-ui, sans-serif",
        fontSize: "13px",
        color: "#0b1020",
        backgroundColor: "#f5f7ff",
        padding: { x: 6, y: 3 },
      })
      .setOrigin(0.5, 1)
      .setDepth(40);
    this.bubbles.set(playerId, { text: bubble, until: this.time.now + BUBBLE_MS });
  }

  /** The own player predicted and drawn, for the test snapshot (the server's `me` until it exists). */
  ownPosition(me: { x: number; y: number }): { predictedX: number; predictedY: number; drawnX: number; drawnY: number } {
    const predicted = this.own && this.room ? this.own.predicted(this.rules()) : me;
    const drawn = this.own ?? me;
    return { predictedX: predicted.x, predictedY: predicted.y, drawnX: drawn.x, drawnY: drawn.y };
  }

  /** How far in the past remote entities are drawn now, ms. */
  get interpolationDelayMs(): number {
    return this.timeline.delayMs;
  }

  /** Entities drawn now (ids), for the test snapshot. */
  drawn(): Array<{ id: string; kind: string; x: number; y: number; serial: number; label?: string }> {
    return [...this.views.values()].map((v) => ({ id: v.id, kind: v.kind, x: v.body.x, y: v.body.y, serial: v.serial, label: v.label?.text }));
  }

  /** The own player's label as drawn ("Ada ★3"), for the test snapshot. */
  get ownLabelText(): string | undefined {
    return this.ownLabel?.text;
  }

  override update(time: number, delta: number): void {
    this.frames++;
    const state = this.room?.state;
    if (!state) return;
    if (!this.mapDrawn && state.higherMapLimit && state.speed > 0) this.drawMap(state);

    const drawAt = this.timeline.renderTime(time);
    for (const view of this.views.values()) {
      const p = view.interp.sample(drawAt);
      view.body.setPosition(p.x, p.y);
      view.label?.setPosition(p.x, p.y + 22);
    }
    // Prediction must integrate real elapsed time, as the server does: Phaser's `delta` is
    // smoothed and capped, which makes the prediction fall behind when frames are slow.
    this.updateOwn(state, time, Math.min(250, this.game.loop.rawDelta || delta));
    for (const [id, b] of this.bubbles) {
      const at = id === this.room!.sessionId ? this.ownBody : this.views.get(`players:${id}`)?.body;
      if (!at || time > b.until) {
        b.text.destroy();
        this.bubbles.delete(id);
      } else {
        b.text.setPosition(at.x, at.y - 22);
      }
    }
    this.drawDebug(state);
  }

  private updateOwn(state: MMOState, time: number, delta: number): void {
    const me = state.players?.get(this.room!.sessionId);
    if (!me && !(this.own && this.switches > 0)) return;
    if (!this.own) this.createOwn(me!);
    this.sendIfChanged(this.currentKeys(), time - Math.min(delta, MAX_KEY_LEAD_MS));
    // (No `me` only when the room a handoff left is gone before the new one's state is here:
    // the prediction goes on alone meanwhile.)
    this.own!.frame(time, delta, me ?? this.own!.predicted(this.rules()), this.rules());
    this.ownBody!.setPosition(this.own!.x, this.own!.y);
    this.ownRing!.setPosition(this.own!.x, this.own!.y);
    this.ownLabel!.setPosition(this.own!.x, this.own!.y + 24);
    if (me) this.ownLabel!.setText(`${me.name} ★${readVar(me.vars, "score") ?? 0}`);
  }

  private createOwn(me: Entity & { name: string }): void {
    this.own = new OwnPlayer(me);
    this.ownRing = this.add.image(me.x, me.y, "self-ring").setDepth(21);
    this.ownBody = this.add.image(me.x, me.y, "player").setTint(colorFor(me.id)).setDepth(22);
    this.ownLabel = this.label(me.x, me.y + 24, me.name).setDepth(23).setColor("#ffffff");
    this.cameras.main.startFollow(this.ownBody, true, 0.2, 0.2);
  }

  /** Keys from the keyboard, or steering toward a clicked point. */
  private currentKeys(): KeyState {
    if (this.typing) return NO_KEYS;
    const c = this.cursors!;
    const w = this.wasd!;
    const held = {
      up: c.up.isDown || w.up.isDown,
      down: c.down.isDown || w.down.isDown,
      left: c.left.isDown || w.left.isDown,
      right: c.right.isDown || w.right.isDown,
    };
    if (held.up || held.down || held.left || held.right) {
      this.clickTarget = undefined;
      return held;
    }
    const t = this.clickTarget;
    if (!t || !this.own) return NO_KEYS;
    const dx = t.x - this.own.x;
    const dy = t.y - this.own.y;
    if (Math.abs(dx) <= ARRIVE_DISTANCE && Math.abs(dy) <= ARRIVE_DISTANCE) {
      this.clickTarget = undefined;
      return NO_KEYS;
    }
    return { up: dy < -ARRIVE_DISTANCE, down: dy > ARRIVE_DISTANCE, left: dx < -ARRIVE_DISTANCE, right: dx > ARRIVE_DISTANCE };
  }

  /** Sends keys that changed, in effect (for the prediction) from local time `start`. */
  private sendIfChanged(keys: KeyState, start: number): void {
    const s = this.sentKeys;
    if (!this.resendKeys && s.up === keys.up && s.down === keys.down && s.left === keys.left && s.right === keys.right) return;
    this.resendKeys = false;
    this.sentKeys = { ...keys };
    if (this.room && this.own) this.sendKeys(this.own.input(this.sentKeys, start));
  }

  private applyProximity(u: ProximityUpdate): void {
    const now = this.stampNow();
    for (const id of u.removedUsers) this.removeView(`players:${id}`);
    for (const id of u.removedItems) this.removeView(`items:${id}`);
    // Entities appear where they entered the AoI (SmartFoxServer's entry point).
    // After a handoff, the new room lists everything as entering: what is drawn already stays.
    const drawn = (key: string) => this.adopting && this.views.has(key);
    for (const a of u.addedUsers) if (!drawn(`players:${a.id}`)) this.addView("players", a.id, a.entity, a.entryPoint, now);
    for (const a of u.addedItems) if (!drawn(`items:${a.id}`)) this.addView("items", a.id, a.entity, a.entryPoint, now);
  }

  private addView(
    collection: "players" | "items",
    id: string,
    e: Entity & { name?: string; kind?: string },
    at: { x: number; y: number },
    now: number,
  ): void {
    const key = `${collection}:${id}`;
    this.removeView(key);
    const kind = collection === "players" ? "player" : (e.kind ?? "item");
    const texture = kind === "player" ? "player" : kind === "gem" ? "gem" : "npc";
    const body = this.add.image(at.x, at.y, texture).setDepth(kind === "gem" ? 5 : 10);
    if (kind === "player") body.setTint(colorFor(id));
    const name = kind === "player" ? e.name : kind === "npc" ? String(readVar(e.vars, "name") ?? "") : undefined;
    const label = name ? this.label(at.x, at.y + 22, name) : undefined;
    this.views.set(key, { id, collection, kind, body, label, interp: new Interpolator(at.x, at.y, now), serial: ++this.viewSerial });
  }

  private removeView(key: string): void {
    const view = this.views.get(key);
    if (!view) return;
    view.body.destroy();
    view.label?.destroy();
    this.views.delete(key);
  }

  private label(x: number, y: number, text: string): Phaser.GameObjects.Text {
    return this.add
      .text(x, y, text, { fontFamily: "system-ui, sans-serif", fontSize: "12px", color: "#c9d3f5" })
      .setOrigin(0.5, 0)
      .setDepth(30);
  }

  private drawMap(state: MMOState): void {
    const lo = state.lowerMapLimit;
    const hi = state.higherMapLimit;
    const w = hi.x - lo.x;
    const h = hi.y - lo.y;
    const g = this.add.graphics().setDepth(0);
    g.fillStyle(0x14213d).fillRect(lo.x, lo.y, w, h);
    g.lineStyle(1, 0x22335e, 1);
    for (let x = lo.x; x <= hi.x; x += 100) g.lineBetween(x, lo.y, x, hi.y);
    for (let y = lo.y; y <= hi.y; y += 100) g.lineBetween(lo.x, y, hi.x, y);
    g.lineStyle(4, 0x5b7bd5, 1).strokeRect(lo.x, lo.y, w, h);
    this.cameras.main.setBounds(lo.x - 200, lo.y - 200, w + 400, h + 400);
    this.mapDrawn = true;
  }

  /** F3: the AoI box around the own player and the server's grid cells (one per AoI half-extent). */
  private drawDebug(state: MMOState): void {
    const g = this.debug!;
    g.clear();
    if (!this.debugOn || !this.own || !state.aoi) return;
    const { x, y } = this.own;
    const a = state.aoi;
    g.lineStyle(4, 0xff4d6d, 1).strokeRect(x - a.x, y - a.y, a.x * 2, a.y * 2);
    g.lineStyle(1, 0xff4d6d, 0.35);
    const cellX = a.x;
    const cellY = a.y;
    const x0 = Math.floor((x - 2 * a.x) / cellX) * cellX;
    const y0 = Math.floor((y - 2 * a.y) / cellY) * cellY;
    for (let cx = x0; cx <= x + 2 * a.x; cx += cellX) g.lineBetween(cx, y - 2 * a.y, cx, y + 2 * a.y);
    for (let cy = y0; cy <= y + 2 * a.y; cy += cellY) g.lineBetween(x - 2 * a.x, cy, x + 2 * a.x, cy);
  }
}

type EntityViewKeys = Record<"up" | "down" | "left" | "right", Phaser.Input.Keyboard.Key>;
