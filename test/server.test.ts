import type { ColyseusTestServer } from "@colyseus/testing";
import { boot } from "@colyseus/testing";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The real arena.config.ts, with monitor credentials chosen by the environment.
let colyseus: ColyseusTestServer;
let base: string;
beforeAll(async () => {
  process.env.MMO_DATA_DIR = mkdtempSync(join(tmpdir(), "mmo-data-"));
  process.env.MONITOR_USER = "ops";
  process.env.MONITOR_PASSWORD = "s3cret-test";
  const app = (await import("../arena.config")).default;
  colyseus = await boot(app);
  base = `http://localhost:${(colyseus.server as unknown as { port: number }).port}`;
});
afterAll(async () => {
  await colyseus.shutdown();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("arena.config.ts", () => {
  it("serves the monitor only with the right credentials", async () => {
    const none = await fetch(`${base}/monitor/`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic/);
    const wrong = await fetch(`${base}/monitor/`, { headers: { authorization: basic("ops", "guess") } });
    expect(wrong.status).toBe(401);
    const api = await fetch(`${base}/monitor/api`, { headers: { authorization: basic("ops", "guess") } });
    expect(api.status).toBe(401);
    const right = await fetch(`${base}/monitor/`, { headers: { authorization: basic("ops", "s3cret-test") } });
    expect(right.status).toBe(200);
  });

  it("registers the mmo room and answers the health check", async () => {
    const room = await colyseus.sdk.joinOrCreate("mmo", { world: "config-check" });
    expect(room.roomId).toBeTruthy();
    await room.leave();
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  });
});
