/**
 * Turning client messages into backend lines and backend lines into client messages, the way
 * ScaleSocket's JSON framing does, without ever throwing on hostile input.
 */

export type FrameResult = { ok: true; line: string } | { ok: false; reason: string };

/**
 * A client message as one JSON line for the backend, with `_from` added. Refuses what JSON
 * cannot carry or what is too big: BigInt, cycles, depth over `maxDepth`, over `maxBytes`.
 */
export function clientLine(message: Record<string, unknown>, from: number, limits: { maxDepth: number; maxBytes: number }): FrameResult {
  const depth = depthOf(message, limits.maxDepth);
  if (depth === "cycle") return { ok: false, reason: "the message refers to itself" };
  if (depth > limits.maxDepth) return { ok: false, reason: `nested deeper than ${limits.maxDepth}` };
  let line: string;
  try {
    line = JSON.stringify({ ...message, _from: from });
  } catch (e) {
    return { ok: false, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}`.slice(0, 120) };
  }
  if (line.length > limits.maxBytes) return { ok: false, reason: `larger than ${limits.maxBytes} bytes as JSON` };
  return { ok: true, line };
}

/** Nesting depth of a value (stops counting past `limit`), or "cycle". Iterative: no stack overflow. */
export function depthOf(value: unknown, limit: number): number | "cycle" {
  let max = 0;
  const stack: Array<[unknown, number, Set<object>]> = [[value, 0, new Set()]];
  while (stack.length) {
    const [v, d, path] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (v === null || typeof v !== "object") continue;
    if (path.has(v)) return "cycle";
    const next = new Set(path).add(v);
    for (const child of Object.values(v as object)) stack.push([child, d + 1, next]);
  }
  return max;
}

/** `--joinmsg`/`--leavemsg` with `#ID` and `#QUERY_name` filled in (JSON-escaped query values). */
export function fillTemplate(template: string, id: number, query: URLSearchParams): string {
  return template.replace(/#QUERY_([A-Za-z0-9_]+)/g, (_m, name: string) => JSON.stringify(query.get(name) ?? "").slice(1, -1)).replace(/#ID/g, String(id));
}

/** A backend line, framed: where it goes, whether it is metadata, whether to cache it. */
export interface ServerMessage {
  /** The client id in `_to`, or undefined for everyone. */
  to?: number;
  /** `_to` was there but names no possible client: the line goes nowhere. */
  badTo: boolean;
  /** `_meta: true`: stored as the room's metadata, not sent. */
  meta: boolean;
  /** `_cache: true` (for `--cache tagged:N`). */
  tagged: boolean;
  /** The message type for SDK clients (`t`, or "message"). */
  type: string;
  /** The object as clients get it (`_to` removed), and as a text frame. */
  payload: Record<string, unknown>;
  text: string;
}

/** Parses a backend line in JSON framing; undefined when it is not a JSON object. */
export function parseServerLine(line: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const { _to: to, ...payload } = value as Record<string, unknown>;
  const target = typeof to === "number" || (typeof to === "string" && /^\d+$/.test(to)) ? Number(to) : undefined;
  return {
    to: target,
    badTo: to !== undefined && target === undefined,
    meta: payload._meta === true,
    tagged: payload._cache === true,
    type: typeof payload.t === "string" && payload.t ? payload.t : "message",
    payload,
    text: to === undefined ? line : JSON.stringify(payload),
  };
}
