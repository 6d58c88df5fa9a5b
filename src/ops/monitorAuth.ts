import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { RateLimiterMemory, type RateLimiterRes } from "rate-limiter-flexible";
import { clientIp } from "./admission";
import { httpRefused } from "./metrics";

/** Credentials for `/monitor`: the configured ones, or a password generated now. */
export interface MonitorCredentials {
  user: string;
  password: string;
  generated: boolean;
}

/** `password` set: those credentials; unset: a random password (16 characters), printed once at start outside production. */
export function monitorCredentials(user: string, password?: string): MonitorCredentials {
  if (password) return { user, password, generated: false };
  return { user, password: randomBytes(12).toString("base64url"), generated: true };
}

/** How many wrong logins one client address may send, and how its address is read (see `clientIp`). */
export interface MonitorLoginLimits {
  /** Wrong logins per address per 15 minutes; beyond, every request of that address gets 429 until the window passes. */
  failsPer15Min: number;
  trustProxy: number;
}

const WINDOW_SECONDS = 15 * 60;

/**
 * Brute force against `/monitor`'s basic auth, as Express middleware in front of the monitor
 * (Colyseus's own `basicAuth` stays behind it and answers the 401 challenge): a request with
 * wrong credentials costs its client address one of `failsPer15Min` tries; an address with
 * none left gets 429 with `Retry-After`, whatever it sends (or the right password would be
 * the one answer that is not a 429: an oracle). A request without credentials (a browser's
 * first visit, before the login prompt) is no guess and costs nothing; other addresses are
 * not affected.
 */
export function monitorLoginGate(credentials: MonitorCredentials, limits: MonitorLoginLimits) {
  const failures = new RateLimiterMemory({ points: limits.failsPer15Min, duration: WINDOW_SECONDS });
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const address = clientIp(req, limits.trustProxy);
    const check = async (): Promise<void> => {
      const record = await failures.get(address);
      if (record && record.consumedPoints >= limits.failsPer15Min) return tooMany(res, record);
      const given = basicCredentials(req.headers.authorization);
      if (!given || sameCredentials(given, credentials)) return next();
      try {
        await failures.consume(address);
      } catch (spent) {
        return tooMany(res, spent as RateLimiterRes);
      }
      next(); // basicAuth answers the wrong login with its 401 challenge
    };
    check().catch(next);
  };
}

function tooMany(res: ServerResponse, record: RateLimiterRes): void {
  httpRefused.inc({ reason: "monitor_login" });
  const wait = Math.max(1, Math.ceil(record.msBeforeNext / 1000));
  res.writeHead(429, { "content-type": "application/json", "retry-after": String(wait) });
  res.end(JSON.stringify({ code: 429, error: `too many wrong /monitor logins from this address: retry in ${wait} s` }));
}

/** The user and password of an `Authorization: Basic ...` header, or undefined. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Compared as SHA-256 digests in constant time: the answer's timing says nothing about how much was right. */
function sameCredentials(given: { user: string; password: string }, expected: MonitorCredentials): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const userOk = timingSafeEqual(digest(given.user), digest(expected.user));
  const passwordOk = timingSafeEqual(digest(given.password), digest(expected.password));
  return userOk && passwordOk;
}
