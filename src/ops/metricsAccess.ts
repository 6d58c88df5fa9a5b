import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, type ServerEnv } from "./env";

/**
 * Who may read `/metrics`. It tells a stranger the process id that is part of every room's
 * URL, the Node version, memory, descriptors, lag and counts: in production it is never public
 * by accident. As Prometheus scrapes it (`authorization: { credentials_file: ... }` in the
 * scrape config), a bearer token is the ordinary protection; a server in production without
 * `METRICS_TOKEN` refuses to start unless the operator opts in with `METRICS_PUBLIC=1` (a
 * network where only the scraper reaches the port). Outside production (`npm start`, `npm run
 * dev`) it stays open without configuration.
 */
export function requireMetricsPolicy(env: Pick<ServerEnv, "production" | "metricsToken" | "metricsPublic">): void {
  if (env.production && !env.metricsToken && !env.metricsPublic) {
    throw new ConfigError("METRICS_TOKEN is not set: in production /metrics needs a bearer token (set METRICS_TOKEN, and give it to the scraper), or METRICS_PUBLIC=1 to serve it without one");
  }
}

/** Whether an `Authorization` header carries the token (none configured: anyone). Constant time. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(authorization ?? ""), digest(`Bearer ${token}`));
}
