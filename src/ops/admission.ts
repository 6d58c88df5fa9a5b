import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { HttpLimits } from "./env";
import { httpRefused } from "./metrics";

/**
 * HTTP admission: what a stranger's request must pass before Colyseus or Express sees it.
 *
 * It runs first on every request of the server (installed on the http.Server before
 * Colyseus binds its routes), because Colyseus's matchmaking routes are served by its own
 * router ahead of Express: Express middleware (express-rate-limit, express.json({limit}))
 * never sees `/matchmake/...`. So the rate limit is rate-limiter-flexible, which is not tied
 * to a framework, and the body limit is decided on the declared length, before any byte of
 * the body is read (Colyseus then reads the body itself).
 *
 * - a body over `maxBodyBytes` is refused with 413, a body of unknown length with 411;
 * - matchmaking (`POST /matchmake/...`) is limited per client IP (token bucket:
 *   `matchmakePerMinute` per minute), then 429 with `Retry-After`;
 * - `/monitor` answers same-origin requests only (403 otherwise: no CSRF through a GET);
 * - CORS: see `corsHeaders`;
 * - every request and upgrade carries the client's address as admission counts it in
 *   `X-Real-IP` (any the client sent is replaced): Colyseus reads that header first for
 *   `AuthContext.ip`, so rooms see an address the client cannot choose.
 */
export function installAdmission(server: Server, limits: HttpLimits): { admitJoin(req: IncomingMessage): Promise<boolean>; addressOf(req: IncomingMessage): string } {
  const matchmaking = new RateLimiterMemory({ points: Math.max(1, limits.matchmakePerMinute), duration: 60 });
  joinGate.bar = (ip) => limits.floodCooldownSeconds > 0 && void matchmaking.block(addressKey(ip), limits.floodCooldownSeconds).catch(() => {});
  const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
  // The one way to run before every "request" listener, whatever order they were added in.
  server.emit = ((event: string, ...args: unknown[]) => {
    if (event === "upgrade") stampClientIp(args[0] as IncomingMessage, limits.trustProxy);
    if (event !== "request") return emit(event, ...args);
    const [req, res] = args as [IncomingMessage, ServerResponse];
    stampClientIp(req, limits.trustProxy);
    // Nothing a request holds may throw out of here (it would end the process).
    admit(req, res, limits, matchmaking)
      .then((ok) => ok && emit(event, req, res))
      .catch(() => res.destroy());
    return true;
  }) as Server["emit"];
  return {
    /** For joins that are not matchmaking requests (ScaleSocket's plain WebSocket clients): the same per-IP budget. */
    admitJoin: (req) => matchmaking.consume(addressKey(stampClientIp(req, limits.trustProxy))).then(() => true, () => false),
    /** The client's address as the limits count it (a plain WebSocket client's room is charged to it). */
    addressOf: (req) => addressKey(stampClientIp(req, limits.trustProxy)),
  };
}

/**
 * Joins a room can refuse an address for: a room that closes a client for flooding bars its
 * address from matchmaking and plain joins for a while (429 with Retry-After), so it cannot
 * come straight back and cost the server a new room, a new backend, a new flood. Installed by
 * `installAdmission`; a no-op where there is none (@colyseus/testing).
 */
export const joinGate = {
  /** Bars `ip` (as `AuthContext.ip` or X-Real-IP gives it) for `MMO_FLOOD_COOLDOWN_SECONDS`. */
  bar(_ip: string): void {},
};

/**
 * The request header admission writes the client's address into, replacing whatever a
 * client sent there. Colyseus reads it first for `AuthContext.ip`; rooms read it for the
 * address that created them (roomsPerAddress.ts). Absent: no admission ran (a test server).
 */
export const ADMITTED_ADDRESS_HEADER = "x-real-ip";

/** Sets ADMITTED_ADDRESS_HEADER to the client's address as admission counts it; returns it. */
function stampClientIp(req: IncomingMessage, trustProxy: number): string {
  const ip = clientAddress(req, trustProxy);
  req.headers[ADMITTED_ADDRESS_HEADER] = ip;
  return ip;
}

async function admit(req: IncomingMessage, res: ServerResponse, limits: HttpLimits, matchmaking: RateLimiterMemory): Promise<boolean> {
  let path: string;
  try {
    // As the routers see it (absolute-form too); Express matches case-insensitively.
    path = new URL(req.url ?? "/", "http://host").pathname;
  } catch {
    return refuse(res, 400, "bad_request", "malformed request target");
  }
  const lower = path.toLowerCase();
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
  if (hasBody) {
    const length = req.headers["content-length"];
    if (length === undefined && req.headers["transfer-encoding"] !== undefined) {
      return refuse(res, 411, "length_required", "a request body needs a Content-Length");
    }
    if (Number(length ?? 0) > limits.maxBodyBytes) {
      return refuse(res, 413, "body_too_large", `request bodies are limited to ${limits.maxBodyBytes} bytes`);
    }
  }
  if (lower === "/monitor" || lower.startsWith("/monitor/")) {
    if (!isSameOrigin(req)) return refuse(res, 403, "cross_origin", "the monitor answers same-origin requests only");
  }
  if (req.method === "POST" && path.startsWith("/matchmake/")) {
    try {
      await matchmaking.consume(clientIp(req, limits.trustProxy));
    } catch (e) {
      const wait = Math.max(1, Math.ceil(((e as { msBeforeNext?: number }).msBeforeNext ?? 1000) / 1000));
      res.setHeader("Retry-After", String(wait));
      return refuse(res, 429, "rate_limited", `too many matchmaking requests: retry in ${wait} s`);
    }
  }
  return true;
}

function refuse(res: ServerResponse, status: number, reason: string, message: string): false {
  httpRefused.inc({ reason });
  res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ code: status, error: message }));
  return false;
}

/** The client's address for rate limits (`clientAddress`, an IPv6 one by its /64). */
export function clientIp(req: IncomingMessage, trustProxy: number): string {
  return addressKey(clientAddress(req, trustProxy));
}

/**
 * The client's address: the socket's, or the one `trustProxy` proxies in front say
 * (X-Forwarded-For). Never X-Real-IP or any other header a client can set.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const socketIp = req.socket.remoteAddress ?? "unknown";
  const forwarded = String(req.headers["x-forwarded-for"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  // The last `trustProxy` entries were added by our proxies; the one before them is the client.
  return trustProxy > 0 ? (forwarded[forwarded.length - trustProxy] ?? forwarded[0] ?? socketIp) : socketIp;
}

/** What a per-address budget counts an address as: IPv6 by its /64 (one host owns a whole /64). */
export function addressKey(ip: string): string {
  return ipv6Prefix(ip) ?? ip;
}

/** The /64 of an IPv6 address (IPv4-mapped ones stay IPv4), or undefined for IPv4. */
function ipv6Prefix(ip: string): string | undefined {
  if (!ip.includes(":") || ip.startsWith("::ffff:")) return undefined;
  const [head] = ip.split("::");
  const groups = ip.includes("::") ? [...head.split(":").filter(Boolean), "0", "0", "0", "0"] : ip.split(":");
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** Whether X-Forwarded-Host/-Proto may be believed (set from TRUST_PROXY by installCors). */
let trustForwarded = false;

/** This server's own origin as the request's Host header names it (or, behind trusted proxies, X-Forwarded-*). */
function ownOrigin(headers: { get(name: string): string | null }): string | undefined {
  const host = (trustForwarded && headers.get("x-forwarded-host")) || headers.get("host");
  if (!host) return undefined;
  const proto = (trustForwarded && headers.get("x-forwarded-proto")) || "http";
  return `${proto}://${host}`;
}

function isSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === ownOrigin(new Headers(req.headers as Record<string, string>));
}

/**
 * The CORS headers for a request (Colyseus sets them on every route, its own and Express's):
 * a cross-origin caller is answered only from the server's own origin or `allowed`, and never
 * with credentials for any other.
 */
export function corsHeaders(headers: { get(name: string): string | null }, allowed: readonly string[]): Record<string, string> {
  const origin = headers.get("origin");
  if (!origin || (origin !== ownOrigin(headers) && !allowed.includes(origin))) return { Vary: "Origin" };
  return { "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", Vary: "Origin" };
}

/** The part of Colyseus's matchmaking controller that decides CORS (its documented override point). */
interface CorsController {
  DEFAULT_CORS_HEADERS: Record<string, string>;
  getCorsHeaders(headers: Headers): Record<string, string>;
}

/** Makes Colyseus answer CORS from the allow-list instead of reflecting any Origin with credentials. */
export function installCors(controller: CorsController, allowed: readonly string[], trustProxy = 0): void {
  trustForwarded = trustProxy > 0;
  const { "Access-Control-Allow-Origin": _any, "Access-Control-Allow-Credentials": _credentials, ...rest } = controller.DEFAULT_CORS_HEADERS;
  controller.DEFAULT_CORS_HEADERS = rest;
  controller.getCorsHeaders = (headers) => corsHeaders(headers, allowed);
}
