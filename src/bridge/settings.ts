import { z } from "zod";

/**
 * How a process room runs its backend and frames its messages: ScaleSocket's options, plus
 * the limits that keep one client (or one backend) from taking the server down.
 */
export const processRoomSchema = z
  .object({
    /** The backend command and its arguments, e.g. ["python3", "examples/bunny/server.py"]. */
    command: z.array(z.string().min(1)).min(1),
    /** Working directory of the backend (default: the server's). */
    cwd: z.string().optional(),
    /** ScaleSocket's --passenv: the only variables of the server's environment the backend sees (plus ROOM, QUERY_STRING, REMOTE_ADDR). */
    passenv: z.array(z.string().min(1)).default(["PATH", "DYLD_LIBRARY_PATH"]),
    /** ScaleSocket's --joinmsg / --leavemsg (`#ID` is the client's id, `#QUERY_x` a query parameter); none: nothing is sent. */
    joinmsg: z.string().max(4096).optional(),
    leavemsg: z.string().max(4096).optional(),
    /** ScaleSocket's --clientframe / --serverframe: `json` (parse, `_from`, `_to`, `_meta`) or `none` (lines as they are). */
    clientframe: z.enum(["json", "none"]).default("json"),
    serverframe: z.enum(["json", "none"]).default("json"),
    /** ScaleSocket's --cache: replay the last `size` server messages (all, or those with `_cache: true`) to a new client. */
    cache: z.object({ type: z.enum(["all", "tagged"]), size: z.number().int().positive().max(10_000) }).optional(),
    /** Keep the cache after the last client leaves (ScaleSocket's --cachepersist). */
    cachePersist: z.boolean().default(false),
    /** Consecutive failed starts (or crashes) before the room gives up; a backend up for `stableSeconds` resets the count. */
    maxRestarts: z.number().int().min(0).default(3),
    stableSeconds: z.number().positive().default(30),
    /** ScaleSocket's --delimiters / --null: the characters that end a backend output item. */
    delimiters: z.string().min(1).max(8).default("\n"),
    /** A stdout line longer than this (bytes) is dropped. */
    maxLineBytes: z.number().int().positive().default(64 * 1024),
    /** Lines per second the backend may broadcast; and may send to each client (`_to`), each its own budget. */
    maxLinesPerSecond: z.number().int().positive().default(2000),
    maxPrivateLinesPerSecond: z.number().int().positive().default(500),
    /** Bytes waiting on the backend's stdin above which client messages are dropped (backpressure). */
    maxPendingStdinBytes: z.number().int().positive().default(256 * 1024),
    /** Per client: messages and bytes per second (over: the message is refused with `error`). */
    maxMessagesPerSecond: z.number().int().positive().default(60),
    maxBytesPerSecond: z.number().int().positive().default(32 * 1024),
    /** A client message deeper than this (nested objects/arrays) or larger as JSON is refused. */
    maxDepth: z.number().int().positive().default(32),
    maxMessageBytes: z.number().int().positive().default(16 * 1024),
    maxClients: z.number().int().positive().default(100),
    /** ScaleSocket's --rooms: only these room names (any when absent). */
    allowedRooms: z.array(z.string()).optional(),
  })
  .strict();
export type ProcessRoomSettings = z.input<typeof processRoomSchema>;
export type ProcessRoomConfig = z.output<typeof processRoomSchema>;

/** ScaleSocket's --json: JSON framing both ways, and these join and leave messages. */
export const JSON_JOINMSG = '{"t":"Join","_from":#ID}';
export const JSON_LEAVEMSG = '{"t":"Leave","_from":#ID}';

/** Event types only the bridge may send to a backend: a client naming one is refused. */
export const RESERVED_TYPES = new Set(["Join", "Leave", "Connect", "Disconnect"]);
