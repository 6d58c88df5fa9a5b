import { request } from "node:http";
import { Client } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startRedis, startServer } from "../scripts/lib";

// The HTTP layer against a real server process (arena.config.ts as `npm start` runs it):
// the reproductions of the security issue that a stranger sends over plain HTTP.
let server: ServerProcess;
const CORS_ALLOWED = "https://game.example";

beforeAll(async () => {
  server = await startServer({
    env: {
      // Each test speaks from its own address (X-Forwarded-For, one trusted proxy), so the
      // per-IP matchmaking limit of one test does not spill into the next.
      TRUST_PROXY: "1",
      MMO_MATCHMAKE_PER_MINUTE: "20",
      MMO_MAX_WORLDS: "5",
      PROCESS_MAX_ROOMS: "2",
      PROCESS_COMMAND: `${process.execPath} test/fixtures/echo-backend.mjs`,
      METRICS_TOKEN: "metrics-secret",
      CORS_ORIGINS: CORS_ALLOWED,
      MONITOR_PASSWORD: "", // generated: must not be printed in production
      GAME_GEMS: "1",
      GAME_NPCS: "0",
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.stop("SIGKILL");
});

let nextIp = 1;
/** A POST to a matchmaking route from a given client address. */
function matchmake(method: string, room: string, body: unknown, ip: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.endpoint}/matchmake/${method}/${room}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip, ...headers },
    body: JSON.stringify(body),
  });
}
const freshIp = () => `203.0.113.${nextIp++}`;

describe("admission", () => {
  it("a room sees the client's address as admission counts it: an X-Real-IP the client sent is replaced", async () => {
    const ip = freshIp();
    const res = await matchmake("joinOrCreate", "process", { room: "addr" }, ip, { "x-real-ip": "198.51.100.77" });
    const room = await new Client(server.endpoint).consumeSeatReservation(await res.json());
    room.onMessage("*", () => {});
    const env = new Promise<Record<string, string>>((resolve) => room.onMessage("env", (m: { env: Record<string, string> }) => resolve(m.env)));
    room.send("env");
    // The backend's REMOTE_ADDR, a room's AuthContext.ip and every per-address budget agree.
    expect((await env).REMOTE_ADDR).toBe(ip);
    await room.leave();
  });

  it("a room-creation flood from one address is cut at the per-IP rate (429 with Retry-After)", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let rateLimited = 0;
    for (let i = 0; i < 40; i++) {
      const res = await matchmake("joinOrCreate", "mmo", { world: `flood-${i}` }, ip);
      statuses.push(res.status);
      const body = (await res.json()) as { error?: string };
      // 429 is also the per-address room quota (MMO_ROOMS_PER_ADDRESS), which has no Retry-After.
      if (res.status === 429 && /too many matchmaking requests/.test(body.error ?? "")) {
        rateLimited++;
        retryAfter = res.headers.get("retry-after");
      }
    }
    expect(rateLimited).toBe(20);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The world cap stopped the accepted ones beyond MMO_MAX_WORLDS (503).
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(5);
  });

  it("live rooms per type are capped per process; the process bridge spawns no more backends than its cap", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await matchmake("joinOrCreate", "process", { room: `cap-${i}` }, freshIp());
      statuses.push(res.status);
      const body = (await res.json()) as { code?: number; error?: string };
      if (res.status !== 200) expect(body.error).toMatch(/as many process rooms as it may \(2\)/);
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${server.endpoint}/metrics`, { headers: { authorization: "Bearer metrics-secret" } })).text();
    expect(metrics).toMatch(/mmo_rooms_refused_total\{type="process"[^}]*\} [1-9]/);
  });

  it("refuses a 100 MB body at once (413) without reading it, and any JSON body over the limit", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.endpoint}/matchmake/joinOrCreate/mmo`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(100 * 1024 * 1024), "x-forwarded-for": freshIp() },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write(`{"world":"${"x".repeat(1000)}`);
    });
    expect(status).toBe(413);
    const big = await matchmake("joinOrCreate", "mmo", { world: "big", name: "x".repeat(10_000) }, freshIp());
    expect(big.status).toBe(413);
    const up = await fetch(`${server.endpoint}/healthz`);
    expect(up.status).toBe(200);
  });

  it("CORS: a foreign origin gets no Access-Control-Allow-Origin and never credentials; allowed ones do", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.endpoint}/matchmake/joinOrCreate/mmo`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("access-control-allow-credentials")).toBeNull();
    const ok = await preflight(CORS_ALLOWED);
    expect(ok.headers.get("access-control-allow-origin")).toBe(CORS_ALLOWED);
    const own = await fetch(`${server.endpoint}/healthz`, { headers: { origin: `http://127.0.0.1:${server.port}` } });
    expect(own.headers.get("access-control-allow-origin")).toBe(`http://127.0.0.1:${server.port}`);
    const monitorFromEvil = await fetch(`${server.endpoint}/healthz`, { headers: { origin: "https://evil.example" } });
    expect(monitorFromEvil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("the monitor answers same-origin requests only (no CSRF through a GET), and its password is not printed in production", async () => {
    const auth = `Basic ${Buffer.from("admin:wrong").toString("base64")}`;
    for (const headers of [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }] as Record<string, string>[]) {
      // Express matches /MONITOR as /monitor: the check must too.
      for (const path of ["/monitor/api/room/call?roomId=x&method=persistence", "/MONITOR/api", "/Monitor/api/room/call?roomId=x&method=disconnect"]) {
        const res = await fetch(`${server.endpoint}${path}`, { headers: { ...headers, authorization: auth } });
        expect(res.status, path).toBe(403);
      }
    }
    expect((await fetch(`${server.endpoint}/monitor/`)).status).toBe(401);
    expect(server.output()).not.toMatch(/generated password/);
    expect(server.output()).toMatch(/\/monitor is locked: set MONITOR_PASSWORD/);
  });

  it("/playground is off unless PLAYGROUND=1; /metrics needs its bearer token", async () => {
    expect((await fetch(`${server.endpoint}/playground`)).status).toBe(404);
    expect((await fetch(`${server.endpoint}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${server.endpoint}/metrics`, { headers: { authorization: "Bearer metrics-secret" } });
    expect(metrics.status).toBe(200);
  });

  it("a refused join logs one line with its code and reason: no token, no client object", async () => {
    const token = "secret-token-value-that-must-not-be-logged";
    const before = server.output().length;
    const res = await matchmake("joinOrCreate", "mmo", { world: "bad world!", token }, freshIp());
    expect(res.status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    const logged = server.output().slice(before);
    expect(logged).not.toContain(token);
    const lines = logged.split("\n").filter((l) => l.includes("refused join"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused join \(400\): bad join options: world:/);
    expect(lines[0].length).toBeLessThan(400);
  });
});

describe("operations", () => {
  it("/playground with PLAYGROUND=1; /healthz turns 503 when the configured Redis stops answering", async () => {
    const redis = await startRedis();
    const other = await startServer({
      env: { PLAYGROUND: "1", REDIS_URL: redis.url, PUBLIC_ADDRESS: "127.0.0.1:1", IDENTITY_SECRET: "admission-test-secret-of-32-bytes!!", GAME_GEMS: "1", GAME_NPCS: "0" },
    });
    try {
      expect((await fetch(`${other.endpoint}/playground`)).status).toBe(200);
      expect((await fetch(`${other.endpoint}/healthz`)).status).toBe(200);
      await redis.stop();
      let status = 0;
      for (let i = 0; i < 20 && status !== 503; i++) {
        status = (await fetch(`${other.endpoint}/healthz`)).status;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(503);
    } finally {
      await other.stop("SIGKILL");
      await redis.stop();
    }
  }, 60_000);
});
