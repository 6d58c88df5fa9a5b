import { z } from "zod";
import { checkVarValue } from "./vars";
import { CHAT_MAX_LENGTH, type ClientMessages, DEFAULT_WORLD, NAME_MAX_LENGTH, REGION_NAME, VAR_LIMITS, type VarValue } from "./wire";

export { CloseCodes, JoinErrorCodes, MMOErrorCode } from "./codes";
// The plain half (no zod): limits, client message payloads, and `serverMessages`, the table of
// every message the server sends (their payloads: ChatBroadcast, MMOError...). A new server
// message goes there (./wire.ts), so the SDK registers it.
export {
  CHAT_MAX_LENGTH,
  type ChatBroadcast,
  type ClientMessages,
  DEFAULT_WORLD,
  type IdentityMessage,
  type JsonValue,
  type MMOError,
  NAME_MAX_LENGTH,
  type ServerMessage,
  type ServerMessageType,
  type ServerMessages,
  type ShutdownNotice,
  ROOM_VAR_LIMITS,
  VAR_LIMITS,
  type VarChanges,
  type VarType,
  type VarValue,
  serverMessages,
} from "./wire";

const coordinate = z.number().finite();
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A typed variable value (checkVarValue: finite numbers, bounded strings, bounded JSON), or null to delete. */
const varValue = z
  .custom<VarValue>()
  .superRefine((v, ctx) => {
    const problem = checkVarValue(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .nullable();

/** Variables to set or delete: 1..VAR_LIMITS.maxKeys names (`vars`, `privateVars`, `roomVars`). */
const varChanges = z
  .record(
    z
      .string()
      .min(1)
      .max(VAR_LIMITS.maxKeyLength)
      // A leading letter or digit also keeps out "__proto__" (which msgpack decoding renames).
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "keys start with a letter or digit, then letters, digits, _ . -")
      .refine((k) => !FORBIDDEN_KEYS.has(k), "reserved key"),
    varValue,
  )
  .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= VAR_LIMITS.maxKeys, {
    message: `1..${VAR_LIMITS.maxKeys} variables per message`,
  });

/** Client -> server messages, validated before anything changes. */
export const clientMessages = {
  /** SetUserPosition. The first one takes the user out of limbo. */
  position: z.object({ x: coordinate, y: coordinate, z: coordinate.optional() }).strict(),
  /** Asks the server to pick a free entry point; only while in limbo. */
  spawn: z.union([z.undefined(), z.null(), z.object({}).strict()]),
  /**
   * Key states; the server moves the player while a key is held. With a `seq` (the client's
   * counter) the server answers `ack`s, to this client only; without one (older clients) none.
   */
  input: z.object({ up: z.boolean(), down: z.boolean(), left: z.boolean(), right: z.boolean(), seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict(),
  /** A public message to everyone whose AoI holds the sender. */
  chat: z
    .object({ text: z.string().max(CHAT_MAX_LENGTH * 4) })
    .strict()
    .transform((m) => ({ text: m.text.trim() }))
    .refine((m) => m.text.length >= 1 && m.text.length <= CHAT_MAX_LENGTH, {
      message: `text must be 1..${CHAT_MAX_LENGTH} characters`,
    }),
  /** User variables to set (a typed value) or delete (null). */
  vars: varChanges,
  /** Private user variables (their owner only receives them). */
  privateVars: varChanges,
  /** Room Variables, where the world's `roomVarsClientWrite` policy allows. */
  roomVars: varChanges,
} as const;

export type PositionMessage = z.output<typeof clientMessages.position>;
export type InputMessage = z.output<typeof clientMessages.input>;
export type ChatMessage = z.output<typeof clientMessages.chat>;
export type VarsMessage = z.output<typeof clientMessages.vars>;

/**
 * What the schemas above accept must be what wire.ts's `ClientMessages` (the SDK's type for
 * `room.send`) says: a schema changed without it fails the typecheck here, naming the type.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Accepted = { [K in keyof typeof clientMessages]: z.input<(typeof clientMessages)[K]> };
type Keys = keyof Accepted | keyof ClientMessages;
type Mismatched = { [K in Keys]: K extends keyof Accepted & keyof ClientMessages ? (Same<Accepted[K], ClientMessages[K]> extends true ? never : K) : K }[Keys];
type MustBeTrue<T extends true> = T;
type _ClientMessagesMatchWire = MustBeTrue<[Mismatched] extends [never] ? true : Mismatched>;

/** Join options a client may pass. `world` selects the room. */
export const joinOptionsSchema = z.object({
  world: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, "world names are letters, digits, _ and -")
    .default(DEFAULT_WORLD),
  /**
   * The region room to join ("" : the entry region; "cx_cy" another one, for a rejoin after a
   * drain or a crash). One spelling per region: matchmaking filters rooms on this text, so
   * "01_0" next to "1_0" would be a second live copy of the region (its own lock, save file
   * and ghosts). Numbers without leading zeros; cell 0,0 is "" only.
   */
  region: z
    .string()
    .max(9)
    .regex(REGION_NAME, "regions are named like 1_0 (no leading zeros; the entry region is \"\")")
    .default(""),
  name: z.string().max(NAME_MAX_LENGTH * 4).optional(),
  /** Checked in onAuth (identities). */
  token: z.string().max(200).optional(),
});

/** A zod error as one readable line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}
