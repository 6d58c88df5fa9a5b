import type { Client, Room } from "@colyseus/core";
import type { z } from "zod";
import { MMOErrorCode } from "../shared/codes";
import { type ChatBroadcast, ROOM_VAR_LIMITS, VAR_LIMITS, type VarChanges, clientMessages, describeIssues } from "../shared/protocol";
import type { Vars } from "../shared/schema";
import { hasVar, varCount } from "../shared/vars";
import { type Position, type Vec3, insideBounds } from "../shared/vector";
import type { Movement } from "./Movement";
import type { MMOSession, Sessions } from "./Sessions";
import type { MMOSettings } from "./settings";
import { type World, applyVars } from "./World";

/** What the message handlers may use of the room. */
export interface MessageContext {
  readonly settings: MMOSettings;
  readonly entities: World;
  readonly movement: Movement;
  readonly sessions: Sessions;
  /** User variables only the server may set; a client's `vars` naming one is refused. */
  readonly serverUserVars: ReadonlySet<string>;
  /** Private user variables only the server may set; a client's `privateVars` naming one is refused. */
  readonly serverPrivateVars: ReadonlySet<string>;
  /** The room clock's time. */
  now(): number;
  setUserPosition(client: Client, pos: Position): void;
  sendToProximity(center: Client, type: string, message: unknown): number;
  sendError(client: Client, code: MMOErrorCode, message: string, request?: string): void;
}

type MessageType = keyof typeof clientMessages;
type Handler<K extends MessageType> = (
  ctx: MessageContext,
  client: Client,
  message: z.output<(typeof clientMessages)[K]>,
  session: MMOSession,
) => void;

/**
 * What the room does with each client message, already validated against
 * `clientMessages` (shared/protocol.ts) and from a known user. One entry per message type.
 */
export const messageHandlers: { [K in MessageType]: Handler<K> } = {
  position(ctx, client, msg, session) {
    const pos = { x: msg.x, y: msg.y, z: msg.z ?? 0 };
    if (!ctx.entities.isInsideMap(pos)) {
      return ctx.sendError(client, MMOErrorCode.OUT_OF_MAP, "position is outside the map limits", "position");
    }
    if (session.inLimbo) {
      const refused = firstPositionRefusal(ctx, session, pos);
      if (refused) return ctx.sendError(client, refused.code, refused.message, "position");
    } else if (ctx.movement.tooFast(session, pos, ctx.now())) {
      return ctx.sendError(client, MMOErrorCode.TOO_FAST, `faster than ${ctx.settings.maxSpeed} units/s`, "position");
    }
    ctx.setUserPosition(client, pos);
  },
  input(ctx, client, { seq, ...keys }, session) {
    if (session.inLimbo) return ctx.sendError(client, MMOErrorCode.IN_LIMBO, "set a position first", "input");
    ctx.movement.setKeys(session, keys, seq);
  },
  chat(ctx, client, { text }, session) {
    if (session.inLimbo) return ctx.sendError(client, MMOErrorCode.IN_LIMBO, "set a position first", "chat");
    const message: ChatBroadcast = { from: session.player.id, name: session.player.name, text };
    ctx.sendToProximity(client, "chat", message);
  },
  spawn(ctx, client, _msg, session) {
    if (!session.inLimbo) return ctx.sendError(client, MMOErrorCode.BAD_REQUEST, "already positioned", "spawn");
    ctx.setUserPosition(client, session.savedPosition ?? ctx.entities.findFreePosition());
  },
  vars(ctx, client, vars, session) {
    setClientVars(ctx, client, "vars", session.player.vars, vars, ctx.serverUserVars, VAR_LIMITS.maxKeys);
  },
  privateVars(ctx, client, vars, session) {
    setClientVars(ctx, client, "privateVars", ctx.entities.privateVarsOf(session.player), vars, ctx.serverPrivateVars, VAR_LIMITS.maxKeys);
  },
  roomVars(ctx, client, vars, session) {
    const policy = ctx.settings.roomVarsClientWrite;
    const denied = policy === "any" ? [] : Object.keys(vars).filter((k) => policy === "none" || !policy.includes(k));
    if (denied.length) {
      return ctx.sendError(client, MMOErrorCode.FORBIDDEN, `this world does not let clients write room variables: ${denied.join(", ")}`, "roomVars");
    }
    if (!takeRoomVarsWrite(session, ctx.now(), ctx.settings.roomVarsWritesPerSecond)) {
      return ctx.sendError(client, MMOErrorCode.RATE_LIMITED, `at most ${ctx.settings.roomVarsWritesPerSecond} roomVars per second`, "roomVars");
    }
    setClientVars(ctx, client, "roomVars", ctx.entities.state.roomVars, vars, new Set(), ROOM_VAR_LIMITS.maxKeys);
  },
};

/**
 * Why a first position (out of limbo) is refused, if it is. In a world split into regions it
 * must lie in the region joined (its room's spawn area): a join cannot land anywhere on the whole
 * map and be handed off at once. A returning player (its identity remembered here) resumes where
 * it was: `maxSpeed` applies from its remembered place, since it was remembered, as if it had
 * never left, so leaving and rejoining is no teleport.
 */
function firstPositionRefusal(ctx: MessageContext, session: MMOSession, pos: Vec3): { code: MMOErrorCode; message: string } | undefined {
  const area = ctx.entities.spawnArea;
  if (area && !insideBounds(pos, area.lower, area.higher)) {
    const { lower: lo, higher: hi } = area;
    return { code: MMOErrorCode.OUT_OF_REGION, message: `the first position must be inside this region: x ${lo.x}..${hi.x}, y ${lo.y}..${hi.y}` };
  }
  const saved = session.savedPosition;
  if (saved && ctx.movement.fasterThanAllowed(saved, pos, Date.now() - (session.savedAt ?? Date.now()))) {
    return { code: MMOErrorCode.TOO_FAST, message: `a returning player resumes where it was (send spawn): faster than ${ctx.settings.maxSpeed} units/s from there` };
  }
  return undefined;
}

/**
 * A client's write to a set of variables: refused whole (BAD_REQUEST, nothing changes) when it
 * names a read-only variable or would hold more than `maxKeys` variables.
 */
function setClientVars(ctx: MessageContext, client: Client, request: string, target: Vars, vars: VarChanges, readOnlyNames: ReadonlySet<string>, maxKeys: number): void {
  const readOnly = Object.keys(vars).filter((k) => readOnlyNames.has(k));
  if (readOnly.length) {
    return ctx.sendError(client, MMOErrorCode.BAD_REQUEST, `read-only variable: ${readOnly.join(", ")}`, request);
  }
  const added = Object.keys(vars).filter((k) => vars[k] !== null && !hasVar(target, k)).length;
  const removed = Object.keys(vars).filter((k) => vars[k] === null && hasVar(target, k)).length;
  if (varCount(target) + added - removed > maxKeys) {
    return ctx.sendError(client, MMOErrorCode.BAD_REQUEST, `at most ${maxKeys} variables`, request);
  }
  applyVars(target, vars);
}

/** Per session: the token bucket of its `roomVars` writes (a burst of `perSecond`, refilled at `perSecond`). */
const roomVarsBuckets = new WeakMap<MMOSession, { tokens: number; at: number }>();

/** Takes one `roomVars` write from the session's bucket; false when it is empty. */
function takeRoomVarsWrite(session: MMOSession, now: number, perSecond: number): boolean {
  const capacity = Math.max(1, perSecond);
  const bucket = roomVarsBuckets.get(session) ?? { tokens: capacity, at: now };
  bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
  bucket.at = now;
  roomVarsBuckets.set(session, bucket);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/**
 * Registers every handler of the table on `room`, plus a catch-all for unknown types.
 *
 * Validation happens here, not through Colyseus's `onMessage(type, validator, handler)`:
 * Colyseus closes the connection of a client whose payload fails its validator, and here a
 * bad payload gets an `error` message (BAD_REQUEST, naming the request) and changes nothing,
 * so a buggy or hostile client cannot make the room look broken to its own player.
 */
export function registerMessageHandlers(room: Room, ctx: MessageContext): void {
  for (const type of Object.keys(messageHandlers) as MessageType[]) {
    const schema = clientMessages[type];
    const handler = messageHandlers[type] as Handler<MessageType>;
    room.onMessage(type, (client: Client, raw: unknown) => {
      const session = ctx.sessions.get(client);
      // None, or one the room already let go (handed to another region, kicked): its
      // connection's last messages change nothing here.
      if (!session || session.kicked || session.client !== client) return;
      const parsed = schema.safeParse(raw);
      if (!parsed.success) return ctx.sendError(client, MMOErrorCode.BAD_REQUEST, describeIssues(parsed.error), type);
      handler(ctx, client, parsed.data as never, session);
    });
  }
  room.onMessage("*", (client: Client, type: string | number) => {
    ctx.sendError(client, MMOErrorCode.BAD_REQUEST, "unknown message type", String(type ?? "").slice(0, 64));
  });
}
