import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServer } from "../scripts/lib";
import { readServerEnv } from "../src/ops/env";
import { requireMetricsPolicy } from "../src/ops/metricsAccess";

// Security review, issue 20: /monitor's basic auth brute-forced from one address (7), and a
// public /metrics in production (8). A real server in production mode (scripts/lib's
// startServer), each test from its own client addresses (X-Forwarded-For, one trusted proxy).
const PASSWORD = "a-monitor-password-of-some-length";
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({ env: { TRUST_PROXY: "1", MONITOR_USER: "ops", MONITOR_PASSWORD: PASSWORD, MMO_MONITOR_FAILS_PER_15MIN: "5", GAME_GEMS: "1", GAME_NPCS: "0" } });
}, 60_000);
afterAll(async () => {
  await server?.stop("SIGKILL");
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const monitorFrom = (ip: string, authorization?: string) =>
  fetch(`${server.endpoint}/monitor/api`, { headers: { "x-forwarded-for": ip, ...(authorization && { authorization }) } });

describe("/monitor logins (7)", () => {
  it("wrong passwords from one address are cut after MMO_MONITOR_FAILS_PER_15MIN (429 with Retry-After, the right password too); other addresses still log in", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await monitorFrom("198.51.100.7", basic("ops", `guess-${i}`));
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The right password is no way out for the guesser (a 200 among 429s would be an oracle).
    expect((await monitorFrom("198.51.100.7", basic("ops", PASSWORD))).status).toBe(429);
    // An IPv6 guesser counts by its /64: a new address in the same /64 gets no fresh budget.
    for (let i = 0; i < 5; i++) expect((await monitorFrom(`2001:db8:1:2::${i + 1}`, basic("ops", "nope"))).status).toBe(401);
    expect((await monitorFrom("2001:db8:1:2::ffff", basic("ops", "nope"))).status).toBe(429);
    // Everyone else is unaffected.
    expect((await monitorFrom("198.51.100.8", basic("ops", PASSWORD))).status).toBe(200);
    expect((await monitorFrom("2001:db8:1:3::1", basic("ops", PASSWORD))).status).toBe(200);
  });

  it("a request without credentials (a browser before its login prompt) is no guess: it is challenged, not counted", async () => {
    for (let i = 0; i < 8; i++) {
      const res = await monitorFrom("198.51.100.9");
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
    }
    expect((await monitorFrom("198.51.100.9", basic("ops", PASSWORD))).status).toBe(200);
  });

  it("in production, a configured MONITOR_PASSWORD under 16 characters refuses to start with one line naming it", async () => {
    expect(() => readServerEnv({ NODE_ENV: "production", MONITOR_PASSWORD: "short" })).toThrow(/MONITOR_PASSWORD must be at least 16 characters/);
    expect(readServerEnv({ NODE_ENV: "production", MONITOR_PASSWORD: "x".repeat(16) }).monitorPassword).toHaveLength(16);
    // Outside production (npm start, tests) any password is accepted, and a generated one is fine everywhere.
    expect(readServerEnv({ MONITOR_PASSWORD: "short" }).monitorPassword).toBe("short");
    expect(() => readServerEnv({ MMO_MONITOR_FAILS_PER_15MIN: "0" })).toThrow(/MMO_MONITOR_FAILS_PER_15MIN must be a whole number >= 1/);
    const refused = await startServer({ env: { MONITOR_PASSWORD: "hunter2", GAME_GEMS: "1", GAME_NPCS: "0" }, readyMs: 30_000 }).then(
      async (s) => {
        await s.stop("SIGKILL");
        return "started";
      },
      (e: unknown) => String(e),
    );
    const line = refused.split("\n").find((l) => l.includes("MONITOR_PASSWORD must be"));
    expect(line).toMatch(/^Refusing to start: MONITOR_PASSWORD must be at least 16 characters in production \(it has 7\)/);
    expect(refused).not.toMatch(/\n\s+at /); // no stack trace
  }, 40_000);
});

describe("/metrics in production (8)", () => {
  it("needs METRICS_TOKEN, or the operator's explicit METRICS_PUBLIC=1; outside production it is open without configuration", async () => {
    expect(() => requireMetricsPolicy(readServerEnv({ NODE_ENV: "production" }))).toThrow(/METRICS_TOKEN is not set/);
    expect(() => requireMetricsPolicy(readServerEnv({ NODE_ENV: "production", METRICS_TOKEN: "t" }))).not.toThrow();
    expect(() => requireMetricsPolicy(readServerEnv({ NODE_ENV: "production", METRICS_PUBLIC: "1" }))).not.toThrow();
    expect(() => requireMetricsPolicy(readServerEnv({}))).not.toThrow();
    expect(() => readServerEnv({ METRICS_PUBLIC: "yes" })).toThrow(/METRICS_PUBLIC must be one of 0, 1/);
    // The running production server (started with a token by scripts/lib) answers strangers 401.
    expect((await fetch(`${server.endpoint}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.endpoint}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("a production server without METRICS_TOKEN refuses to start (one line); with METRICS_PUBLIC=1 it serves /metrics to anyone", async () => {
    const refused = await startServer({ env: { METRICS_TOKEN: "", GAME_GEMS: "1", GAME_NPCS: "0" }, readyMs: 30_000 }).then(
      async (s) => {
        await s.stop("SIGKILL");
        return "started";
      },
      (e: unknown) => String(e),
    );
    expect(refused.split("\n").find((l) => l.includes("METRICS_TOKEN is not set"))).toMatch(/^Refusing to start: METRICS_TOKEN is not set/);
    const open = await startServer({ env: { METRICS_TOKEN: "", METRICS_PUBLIC: "1", GAME_GEMS: "1", GAME_NPCS: "0" } });
    try {
      expect((await fetch(`${open.endpoint}/metrics`)).status).toBe(200);
    } finally {
      await open.stop("SIGKILL");
    }
  }, 60_000);
});
