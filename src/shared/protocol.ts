import { z } from "zod";
import type { MMOErrorCode } from "./codes";

export { CloseCodes, JoinErrorCodes, MMOErrorCode } from "./codes";

/** The world a client joins when it names none. */
export const DEFAULT_WORLD = "default";

/** Payload of the `error` message. `request` is the message type that was refused. */
export interface MMOError {
  code: MMOErrorCode;
  message: string;
  request?: string;
}

/** Bounds on user variables, so one client cannot grow the state without limit. */
export const VAR_LIMITS = { maxKeys: 16, maxKeyLength: 32, maxValueLength: 256 } as const;
export const CHAT_MAX_LENGTH = 200;
export const NAME_MAX_LENGTH = 24;

const coordinate = z.number().finite();
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Client -> server messages, validated before anything changes. */
export const clientMessages = {
  /** SetUserPosition. The first one takes the user out of limbo. */
  position: z.object({ x: coordinate, y: coordinate, z: coordinate.optional() }).strict(),
  /** Asks the server to pick a free entry point; only while in limbo. */
  spawn: z.union([z.undefined(), z.null(), z.object({}).strict()]),
  /** Key states; the server moves the player while a key is held. */
  input: z.object({ up: z.boolean(), down: z.boolean(), left: z.boolean(), right: z.boolean() }).strict(),
  /** A public message to everyone whose AoI holds the sender. */
  chat: z
    .object({ text: z.string().max(CHAT_MAX_LENGTH * 4) })
    .strict()
    .transform((m) => ({ text: m.text.trim() }))
    .refine((m) => m.text.length >= 1 && m.text.length <= CHAT_MAX_LENGTH, {
      message: `text must be 1..${CHAT_MAX_LENGTH} characters`,
    }),
  /** User variables to set (a string) or delete (null). */
  vars: z
    .record(
      z
        .string()
        .min(1)
        .max(VAR_LIMITS.maxKeyLength)
        // A leading letter or digit also keeps out "__proto__" (which msgpack decoding renames).
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "keys start with a letter or digit, then letters, digits, _ . -")
        .refine((k) => !FORBIDDEN_KEYS.has(k), "reserved key"),
      z.string().max(VAR_LIMITS.maxValueLength).nullable(),
    )
    .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= VAR_LIMITS.maxKeys, {
      message: `1..${VAR_LIMITS.maxKeys} variables per message`,
    }),
} as const;

export type PositionMessage = z.output<typeof clientMessages.position>;
export type InputMessage = z.output<typeof clientMessages.input>;
export type ChatMessage = z.output<typeof clientMessages.chat>;
export type VarsMessage = z.output<typeof clientMessages.vars>;

/** What a client may send, by message type: `send<K>(type: K, message: ClientMessages[K])`. */
export type ClientMessages = { [K in keyof typeof clientMessages]: z.input<(typeof clientMessages)[K]> };

/** Server -> client `chat` payload. */
export interface ChatBroadcast {
  from: string;
  name: string;
  text: string;
}

/** Join options a client may pass. `world` selects the room. */
export const joinOptionsSchema = z.object({
  world: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, "world names are letters, digits, _ and -")
    .default(DEFAULT_WORLD),
  name: z.string().max(NAME_MAX_LENGTH * 4).optional(),
  /** Checked in onAuth (identities). */
  token: z.string().max(200).optional(),
});

/** A zod error as one readable line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}
