/**
 * Turning client messages into backend lines and backend lines into client messages, the way
 * ScaleSocket's JSON framing does, without ever throwing on hostile input.
 */

export type FrameResult = { ok: true; line: string } | { ok: false; reason: string };

/**
 * A client message as one JSON line for the backend, with `_from` added. Refuses what JSON
 * cannot carry or what is too big: BigInt, depth over `maxDepth` (a value that refers to
 * itself is infinitely deep), more values than `maxBytes` (each costs a byte of JSON at
 * least), over `maxBytes` as JSON. The message was charged to its sender's rate before it
 * was decoded (ProcessRoom): this is the bounded work a charged message may cost.
 */
export function clientLine(message: Record<string, unknown>, from: number, limits: { maxDepth: number; maxBytes: number }): FrameResult {
  const shape = shapeProblem(message, limits.maxDepth, limits.maxBytes);
  if (shape) return { ok: false, reason: shape };
  let line: string;
  try {
    line = JSON.stringify({ ...message, _from: from });
  } catch (e) {
    return { ok: false, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}`.slice(0, 120) };
  }
  if (line.length > limits.maxBytes) return { ok: false, reason: `larger than ${limits.maxBytes} bytes as JSON` };
  return { ok: true, line };
}

/** Why a value's shape is refused (too deep, too many values), or undefined. */
export function shapeProblem(value: unknown, maxDepth: number, maxValues: number): string | undefined {
  const depth = depthOf(value, maxDepth, maxValues);
  if (depth === "too many") return `more than ${maxValues} values`;
  return depth > maxDepth ? `nested deeper than ${maxDepth}` : undefined;
}

/**
 * Nesting depth of a value, counted with two parallel stacks: no allocation per node, no
 * recursion (no stack overflow). Stops as soon as the depth passes `limit` (a cycle does, at
 * `limit + 1`) or after `maxValues` values ("too many": a value built in-process may share
 * nodes, and a walk of shared nodes is exponential; decoded JSON and msgpack share none).
 * Cost: O(values visited), at most `maxValues`.
 */
export function depthOf(value: unknown, limit: number, maxValues = Number.POSITIVE_INFINITY): number | "too many" {
  let max = 0;
  let visited = 0;
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const d = depths.pop()!;
    if (++visited > maxValues) return "too many";
    if (d > max) {
      max = d;
      if (max > limit) return max;
    }
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        values.push(v[i]);
        depths.push(d + 1);
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        values.push((v as Record<string, unknown>)[key]);
        depths.push(d + 1);
      }
    }
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
