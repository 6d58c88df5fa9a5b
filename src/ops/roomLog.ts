import { ServerError, logger } from "@colyseus/core";

/** At most this many refusal lines per second; the rest are counted and summed up once. */
const REFUSAL_LINES_PER_SECOND = 20;
let windowStart = 0;
let linesInWindow = 0;
let suppressed = 0;

/**
 * Logs one line for a refused join, `[where] refused join (code): reason`, and never more
 * than REFUSAL_LINES_PER_SECOND a second: a stranger refused in a loop cannot flood the log.
 */
export function logRefusal(where: string, code: number | string, reason: string): void {
  const now = Date.now();
  if (now - windowStart >= 1000) {
    if (suppressed > 0) logger.info(`[refusals] ${suppressed} more refused joins in the last second (not logged one by one)`);
    windowStart = now;
    linesInWindow = 0;
    suppressed = 0;
  }
  if (linesInWindow >= REFUSAL_LINES_PER_SECOND) {
    suppressed++;
    return;
  }
  linesInWindow++;
  logger.info(`[${where}] refused join (${code}): ${oneLine(reason)}`);
}

/** A join refusal to throw: a ServerError with `code`, logged as one line. */
export function refusedJoin(code: number, reason: string, where = "mmo"): ServerError {
  logRefusal(where, code, reason);
  return new ServerError(code, reason);
}

/**
 * A room's uncaught exception as one line: a refusal thrown from onAuth/onJoin/onCreate (a
 * ServerError) by its code and message, anything else by its cause's stack. Never the
 * exception's other fields: Colyseus attaches the client and the join options (tokens).
 */
export function logRoomError(where: string, error: Error, methodName: string): void {
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (cause instanceof ServerError && ["onAuth", "onJoin", "onCreate"].includes(methodName)) {
    logRefusal(where, cause.code, cause.message);
    return;
  }
  const stack = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  logger.error(`[${where}] ${methodName}: ${stack}`);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 300);
}
