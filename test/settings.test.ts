import { describe, expect, it } from "vitest";
import { SETTINGS_ENV_VARS, parseSettings, resolveSettings } from "../src/framework/settings";
import { stepPosition } from "../src/shared/movement";
import { readServerEnv } from "../src/ops/env";

describe("region settings", () => {
  it("refuse a handoff hysteresis that reaches past the ghost margin (a handed-over player would not be mirrored back)", () => {
    const split = { regionSize: { x: 1000, y: 1000 } };
    expect(() => parseSettings({ ...split, aoi: { x: 100, y: 80, z: 0 }, aoiLeaveMargin: 0, handoffHysteresis: 80 })).toThrow(/handoffHysteresis must be under/);
    expect(parseSettings({ ...split, aoi: { x: 100, y: 80, z: 0 }, aoiLeaveMargin: 0, handoffHysteresis: 79 }).handoffHysteresis).toBe(79);
    // A world of one region hands nobody over: any AoI goes (a 3D world's thin z, a tiny arena).
    expect(parseSettings({ aoi: { x: 20, y: 20, z: 5 }, aoiLeaveMargin: 0 }).aoi.x).toBe(20);
    expect(() => parseSettings({ regionSize: { x: -1, y: 0 } })).toThrow();
  });
});

describe("resolveSettings", () => {
  it("defaults match SmartFoxServer where it has one", () => {
    const s = resolveSettings({}, {});
    expect(s.userMaxLimboSeconds).toBe(50);
    expect(s.proximityUpdateMillis).toBe(250);
    expect(s.maxUsers).toBe(5000);
    expect(s.patchRate).toBe(50);
    expect(s.reconnectSeconds).toBe(20);
  });

  it("environment variables override the config", () => {
    const s = resolveSettings(
      { aoi: { x: 10, y: 10, z: 0 }, maxUsers: 10 },
      {
        MMO_AOI: "100,80",
        MMO_AOI_LEAVE_MARGIN: "0",
        MMO_MAP_LOWER: "-500,-500,-10",
        MMO_MAP_HIGHER: "500,500,10",
        MMO_USER_MAX_LIMBO_SECONDS: "20",
        MMO_PROXIMITY_UPDATE_MILLIS: "100",
        MMO_MAX_USERS: "200",
        MMO_PATCH_RATE: "33",
        MMO_MAX_MESSAGES_PER_SECOND: "30",
        MMO_SPEED: "120",
        MMO_RECONNECT_SECONDS: "5",
        MMO_SHORT_HOLD_SECONDS: "2",
        MMO_MAX_HELD_PER_ADDRESS: "16",
        MMO_MAX_HELD_SHARE: "0.5",
        MMO_DRAIN_SECONDS: "3",
        MMO_MAX_SPEED: "400",
        MMO_SERIALIZER: "stock",
      },
    );
    expect(s).toEqual({
      aoi: { x: 100, y: 80, z: 0 },
      aoiLeaveMargin: 0,
      maxVisibilityRange: 8,
      mapLimits: { lower: { x: -500, y: -500, z: -10 }, higher: { x: 500, y: 500, z: 10 } },
      userMaxLimboSeconds: 20,
      proximityUpdateMillis: 100,
      maxUsers: 200,
      patchRate: 33,
      maxMessagesPerSecond: 30,
      speed: 120,
      reconnectSeconds: 5,
      shortHoldSeconds: 2,
      maxHeldPerAddress: 16,
      maxHeldShare: 0.5,
      roomVarsClientWrite: "none",
      roomVarsWritesPerSecond: 2,
      drainSeconds: 3,
      maxSpeed: 400,
      serializer: "stock",
      maxLimboShare: 0.25,
      savedPlayersBytes: 2 * 1024 * 1024,
      regionSize: { x: 0, y: 0 },
      handoffHysteresis: 48,
    });
    expect(SETTINGS_ENV_VARS).toHaveLength(17);
  });

  it("refuses bad values with a readable error", () => {
    expect(() => resolveSettings({}, { MMO_AOI: "wide" })).toThrow(/MMO_AOI/);
    expect(() => resolveSettings({}, { MMO_MAX_USERS: "" })).toThrow(/MMO_MAX_USERS/);
    expect(() => resolveSettings({}, { MMO_PATCH_RATE: "0" })).toThrow(/patchRate/);
    expect(() => resolveSettings({ aoi: { x: -1, y: 1, z: 0 } }, {})).toThrow(/aoi/);
    expect(() => resolveSettings({ maxVisibilityRange: 0.5 }, {})).toThrow(/maxVisibilityRange/);
    expect(() => resolveSettings({}, { MMO_MAP_LOWER: "10,10", MMO_MAP_HIGHER: "0,0" })).toThrow(/lower must be <=/);
    expect(() => resolveSettings({ unknown: 1 } as never, {})).toThrow(/unknown/i);
    expect(() => resolveSettings({}, { MMO_SERIALIZER: "fast" })).toThrow(/MMO_SERIALIZER must be one of fanout, stock/);
    expect(() => resolveSettings({}, { MMO_MAX_HELD_PER_ADDRESS: "2.5" })).toThrow(/maxHeldPerAddress/);
    expect(() => resolveSettings({}, { MMO_MAX_HELD_SHARE: "0" })).toThrow(/maxHeldShare/);
  });
});

describe("stepPosition", () => {
  const lower = { x: 0, y: 0, z: 0 };
  const higher = { x: 100, y: 100, z: 0 };
  it("moves at speed, the same on diagonals, and clamps to the map", () => {
    const p = { x: 50, y: 50, z: 0 };
    expect(stepPosition(p, { up: false, down: false, left: false, right: true }, 100, 100, lower, higher)).toEqual({ x: 60, y: 50, z: 0 });
    const d = stepPosition(p, { up: true, down: false, left: true, right: false }, 100, 100, lower, higher);
    expect(Math.hypot(d.x - 50, d.y - 50)).toBeCloseTo(10);
    expect(stepPosition(p, { up: false, down: true, left: false, right: false }, 1000, 1000, lower, higher).y).toBe(100);
    expect(stepPosition(p, { up: true, down: true, left: true, right: true }, 100, 100, lower, higher)).toEqual(p);
  });
});

describe("readServerEnv (src/ops/env.ts: every variable parsed in one place)", () => {
  it("gives the documented defaults", () => {
    expect(readServerEnv({})).toMatchObject({ port: 2567, production: false, dataDir: "data", snapshotSeconds: 5, monitorUser: "admin", statsIntervalMs: 0, processCommand: ["python3", "examples/bunny/server.py"] });
  });

  it("refuses bad values naming the variable", () => {
    expect(() => readServerEnv({ REDIS_URL: "redis://x" })).toThrow(/PUBLIC_ADDRESS/);
    // Each process would sign with a key of its own: a token from one refused by another.
    expect(() => readServerEnv({ REDIS_URL: "redis://x", PUBLIC_ADDRESS: "a:1" })).toThrow(/IDENTITY_SECRET/);
    expect(() => readServerEnv({ GAME_GEMS: "-1" })).toThrow(/GAME_GEMS must be a whole number/);
    expect(() => readServerEnv({ PORT: "http" })).toThrow(/PORT must be a number/);
    expect(() => readServerEnv({ MMO_SNAPSHOT_SECONDS: "0" })).toThrow(/MMO_SNAPSHOT_SECONDS/);
    expect(() => readServerEnv({ PROCESS_COMMAND: "python3 game.py | tee log" })).toThrow(/PROCESS_COMMAND must be a plain command line/);
  });

  it("PROCESS_COMMAND is split with shell quoting, not on every space", () => {
    expect(readServerEnv({ PROCESS_COMMAND: `python3 "my game.py" --name 'Ada Lovelace'` }).processCommand).toEqual(["python3", "my game.py", "--name", "Ada Lovelace"]);
  });
});
