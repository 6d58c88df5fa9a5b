import { defineRoom, matchMaker } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MMORoom } from "../src/framework/MMORoom";
import { parseSettings } from "../src/framework/settings";
import { WorldRegistry, type WorldTable, worldsFromConfig } from "../src/framework/worlds";
import { JoinErrorCodes } from "../src/shared/codes";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { bootRooms, placeAt, roomOf, sleep, until } from "./helpers/server";

// Worlds with their own settings: two declared worlds, unknown worlds taken with the defaults
// (`mmo`) or refused (`strict`), a world defined at runtime, and join options that try to
// choose settings.
const defaults = parseSettings({ proximityUpdateMillis: 50 });
const table: WorldTable = {
  small: { title: "Small", settings: { aoi: { x: 100, y: 80, z: 0 }, maxUsers: 2, mapLimits: { higher: { x: 500, y: 400, z: 0 } } } },
  // Played only through the `strict` room type (one room per world name, whatever the type).
  quiet: { title: "Quiet", settings: { aoi: { x: 300, y: 300, z: 0 } } },
  big: { title: "Big", settings: { aoi: { x: 900, y: 700, z: 0 }, maxUsers: 50, mapLimits: { lower: { x: -10000, y: -10000, z: 0 }, higher: { x: 10000, y: 10000, z: 0 } } } },
};
const open = new WorldRegistry({ defaults, table });
const strict = new WorldRegistry({ defaults, table, unknownWorlds: "refuse" });

let colyseus: ColyseusTestServer;
const joined: SDKRoom<MMOState>[] = [];
beforeAll(async () => {
  colyseus = await bootRooms({
    mmo: defineRoom(MMORoom, { worlds: open }).filterBy(["world"]),
    strict: defineRoom(MMORoom, { worlds: strict }).filterBy(["world"]),
  });
});
afterAll(async () => {
  // A room already left never answers a second leave: do not wait for it.
  await Promise.allSettled(joined.map((r) => Promise.race([r.leave(), sleep(1000)])));
  await colyseus.shutdown();
});

async function enter(world: string, roomType = "mmo", extra: Record<string, unknown> = {}): Promise<SDKRoom<MMOState>> {
  const room = await colyseus.sdk.joinOrCreate<MMOState>(roomType, { world, ...extra });
  joined.push(room);
  await until(() => room.state.aoi?.x !== undefined && room.state.aoi.x > 0, `${world}: state received`);
  return room;
}

const vec = (v: { x: number; y: number; z: number } | undefined) => v && { x: v.x, y: v.y, z: v.z };
const listingOf = async (world: string) => (await matchMaker.query({ name: "mmo" })).find((r) => r.metadata?.world === world)?.metadata;

describe("declared worlds", () => {
  it("each gets its own AoI, map limits and maxUsers, and its title in the listing", async () => {
    const s = await enter("small");
    const b = await enter("big");
    expect(vec(s.state.aoi)).toEqual({ x: 100, y: 80, z: 0 });
    expect(vec(s.state.lowerMapLimit)).toEqual({ x: 0, y: 0, z: 0 }); // not overridden: the default
    expect(vec(s.state.higherMapLimit)).toEqual({ x: 500, y: 400, z: 0 });
    expect(vec(b.state.aoi)).toEqual({ x: 900, y: 700, z: 0 });
    expect(vec(b.state.lowerMapLimit)).toEqual({ x: -10000, y: -10000, z: 0 });
    expect(vec(b.state.higherMapLimit)).toEqual({ x: 10000, y: 10000, z: 0 });
    expect(roomOf(colyseus, s).settings.maxUsers).toBe(2);
    expect(roomOf(colyseus, b).settings.proximityUpdateMillis).toBe(50); // the defaults underneath
    expect(await listingOf("small")).toMatchObject({ world: "small", title: "Small", maxUsers: 2 });
    expect(await listingOf("big")).toMatchObject({ world: "big", title: "Big", maxUsers: 50 });

    // small holds 2 (positioned: a user in limbo would make room for a joining one): a third
    // join is refused, while big takes more.
    await placeAt(colyseus, s, 100, 100);
    await placeAt(colyseus, await enter("small"), 120, 100);
    await expect(enter("small")).rejects.toMatchObject({ code: JoinErrorCodes.WORLD_FULL });
    await enter("big");
    await enter("big");
    expect(roomOf(colyseus, b).state.userCount).toBe(3);
  });
});

describe("unknown worlds", () => {
  it('"default": joined with the default settings, titled by its name', async () => {
    const r = await enter("nowhere-special");
    expect(vec(r.state.aoi)).toEqual(defaults.aoi);
    expect(vec(r.state.higherMapLimit)).toEqual(defaults.mapLimits.higher);
    expect(roomOf(colyseus, r).title).toBe("nowhere-special");
  });

  it('"refuse": the join fails with UNKNOWN_WORLD (404) and no room is made; declared worlds and "default" still join', async () => {
    const refused = await enter("nowhere", "strict").catch((e: { code?: number; message?: string }) => e);
    expect(refused).toMatchObject({ code: JoinErrorCodes.UNKNOWN_WORLD });
    expect((refused as { message: string }).message).toMatch(/unknown world "nowhere"/);
    expect((await matchMaker.query({ name: "strict" })).map((r) => r.metadata?.world)).not.toContain("nowhere");
    const q = await enter("quiet", "strict");
    expect(vec(q.state.aoi)).toEqual({ x: 300, y: 300, z: 0 });
    await enter("default", "strict");
  });
});

describe("worlds defined at runtime (createRoom with settings)", () => {
  it("define(name, settings) makes a world with those settings, known even where unknown worlds are refused", async () => {
    await expect(enter("pop-up", "strict")).rejects.toMatchObject({ code: JoinErrorCodes.UNKNOWN_WORLD });
    const made = await strict.define("pop-up", { title: "Pop-up", settings: { maxUsers: 1, aoi: { x: 50, y: 50, z: 0 } } });
    expect(made).toMatchObject({ name: "pop-up", title: "Pop-up", settings: { maxUsers: 1 } });
    const r = await enter("pop-up", "strict");
    expect(vec(r.state.aoi)).toEqual({ x: 50, y: 50, z: 0 });
    expect(roomOf(colyseus, r).title).toBe("Pop-up");
    await placeAt(colyseus, r, 100, 100);
    await expect(enter("pop-up", "strict")).rejects.toMatchObject({ code: JoinErrorCodes.WORLD_FULL });
    // In the presence, so every registry (every process, with Redis) knows it.
    expect((await open.list()).map((w) => w.world)).toEqual(["small", "quiet", "big", "pop-up"]);
    expect((await open.resolve("pop-up"))?.settings.maxUsers).toBe(1);

    await expect(strict.define("bad-one", { settings: { maxUsers: 0 } })).rejects.toThrow(/world "bad-one".*maxUsers/s);
    await expect(strict.define("small", { settings: { maxUsers: 9 } })).rejects.toThrow(/declared in the worlds table/);
    await expect(strict.define("no/slash")).rejects.toThrow(/world "no\/slash"/);
    expect(await strict.resolve("bad-one")).toBeUndefined(); // nothing stored

    await strict.remove("pop-up");
    expect(await strict.resolve("pop-up")).toBeUndefined();
  });
});

describe("hostile join options", () => {
  it("settings in the join options are dropped: the world's own settings apply", async () => {
    const tries = {
      settings: { maxUsers: 100_000, aoi: { x: 99_999, y: 99_999, z: 0 } },
      maxUsers: 100_000,
      aoi: { x: 99_999, y: 99_999, z: 0 },
      mapLimits: { lower: { x: -1e9, y: -1e9, z: 0 }, higher: { x: 1e9, y: 1e9, z: 0 } },
      worlds: { resolve: "evil" },
      persistence: { store: "evil" },
      title: "Hacked",
    };
    const r = await enter("fresh-small", "mmo", tries);
    const room = roomOf(colyseus, r);
    expect(room.settings).toEqual(defaults);
    expect(room.title).toBe("fresh-small");
    expect(vec(r.state.aoi)).toEqual(defaults.aoi);

    // And in a declared world, once it is live too.
    const s = await colyseus.sdk.joinOrCreate<MMOState>("mmo", { world: "big", ...tries });
    joined.push(s);
    expect(roomOf(colyseus, s).settings.maxUsers).toBe(50);
    expect(roomOf(colyseus, s).title).toBe("Big");
    // A world name that is not a name is refused (400), before any room is made.
    await expect(joinWorld(colyseus.sdk, { world: "../small" })).rejects.toMatchObject({ code: JoinErrorCodes.BAD_OPTIONS });
  });
});

describe("a bad worlds table", () => {
  const bad = (t: unknown) => () => new WorldRegistry({ defaults, table: t as WorldTable });
  it("is refused with a line that names the world and the setting", () => {
    expect(bad({ arena: { settings: { maxUsers: -1 } } })).toThrow(/Invalid worlds table: world "arena".*maxUsers/s);
    expect(bad({ arena: { settings: { aoiRadius: 3 } } })).toThrow(/world "arena".*aoiRadius/s);
    expect(bad({ arena: { settings: { drainSeconds: 3 } } })).toThrow(/world "arena": drainSeconds is a setting of the whole process/);
    expect(bad({ arena: { settings: { mapLimits: { lower: { x: 9000, y: 0, z: 0 } } } } })).toThrow(/world "arena".*mapLimits.lower must be <= mapLimits.higher/s);
    expect(bad({ arena: { colour: "red" } })).toThrow(/colour/);
    expect(bad({ "no spaces": {} })).toThrow(/world names are letters/);
    expect(bad({ arena: { title: "" } })).toThrow(/title/);
    expect(bad([1, 2])).toThrow(/Invalid worlds table/);
  });

  it("MMO_WORLDS_FILE and MMO_UNKNOWN_WORLDS are read and checked", () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-worlds-"));
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ cave: { title: "Cave", settings: { maxUsers: 7 } } }));
    const r = worldsFromConfig(defaults, { table }, { MMO_WORLDS_FILE: good, MMO_UNKNOWN_WORLDS: "refuse" });
    expect(r.unknownWorlds).toBe("refuse");
    expect(() => worldsFromConfig(defaults, {}, { MMO_WORLDS_FILE: join(dir, "missing.json") })).toThrow(/MMO_WORLDS_FILE: cannot read/);
    writeFileSync(join(dir, "broken.json"), "{ not json");
    expect(() => worldsFromConfig(defaults, {}, { MMO_WORLDS_FILE: join(dir, "broken.json") })).toThrow(/MMO_WORLDS_FILE: cannot read a JSON worlds table/);
    expect(() => worldsFromConfig(defaults, {}, { MMO_UNKNOWN_WORLDS: "maybe" })).toThrow(/MMO_UNKNOWN_WORLDS must be one of default, refuse/);
  });

  it("stops the real server at start, with the message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmo-worlds-"));
    const file = join(dir, "worlds.json");
    writeFileSync(file, JSON.stringify({ arena: { settings: { maxUsers: "lots" } } }));
    const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      env: { ...process.env, NODE_ENV: "test", PORT: "0", MMO_DATA_DIR: dir, MMO_WORLDS_FILE: file },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(timer);
    expect(code, output).not.toBe(0);
    expect(code, output).not.toBeNull();
    expect(output).toMatch(/MMO_WORLDS_FILE .*worlds\.json: Invalid worlds table: world "arena".*maxUsers/s);
  });
});
