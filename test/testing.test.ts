import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { boot } from "@colyseus/testing";
import { expect, it } from "vitest";
import type { MMORoom } from "../src/framework/MMORoom";

// Testing a room the way Colyseus documents it: boot(appConfig) from @colyseus/testing, on the
// project's own arena.config.ts, with nothing set in the environment. Under a test runner
// (NODE_ENV=test) the app needs no drain and writes into a temporary data directory.
it("boot(arena.config) works as documented: no drain to wait for, nothing written to ./data", async () => {
  expect(process.env.NODE_ENV).toBe("test");
  const before = existsSync("data") ? readdirSync("data").sort() : [];
  const config = await import("../arena.config");
  expect(config.env.dataDir).not.toBe("data");
  const colyseus = await boot(config.default);
  const room = await colyseus.sdk.joinOrCreate("mmo", { world: "documented" });
  const server = colyseus.getRoomById(room.roomId) as unknown as MMORoom;
  expect(server.settings.drainSeconds).toBe(0);
  room.send("position", { x: 10, y: 10 });
  await new Promise((r) => setTimeout(r, 100));
  await colyseus.shutdown();
  expect(existsSync(join(config.env.dataDir, "world-documented.json"))).toBe(true);
  expect(existsSync("data") ? readdirSync("data").sort() : []).toEqual(before);
});
