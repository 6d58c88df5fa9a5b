import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineRoom } from "@colyseus/core";
import type { Room as SDKRoom } from "@colyseus/sdk";
import { Encoder, MapSchema, Schema, StateView, type, view } from "@colyseus/schema";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MMORoom, type MMORoomOptions } from "../src/framework/MMORoom";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import type { MMOSettingsInput } from "../src/framework/settings";
import { World } from "../src/framework/World";
import { PlayerMemory } from "../src/framework/PlayerMemory";
import { restoreSnapshot, takeSnapshot } from "../src/framework/worldSnapshot";
import { type MMOError, MMOErrorCode, ROOM_VAR_LIMITS, VAR_LIMITS, type VarValue } from "../src/shared/protocol";
import { MMOState, Player, Vars } from "../src/shared/schema";
import {
  joinWorld,
  onItemVariablesUpdate,
  onPrivateVariablesUpdate,
  onRoomVariablesUpdate,
  onUserVariablesUpdate,
  privateVariablesOf,
  registerServerMessages,
} from "../src/shared/sdk";
import { decodeVarValue, encodeVarValue, hasVar, readVar, readVars, varCount, varNames, varTypeOf, writeVar } from "../src/shared/vars";
import { bootRooms, enterWithIdentity, nextMessage, placeAt, roomOf, sleep, until } from "./helpers/server";

/** A room with a server-only user variable (score) and a server-only private one (inventory). */
class VarsRoom extends MMORoom {
  override async onCreate(options: MMORoomOptions): Promise<void> {
    await super.onCreate(options);
    this.serverUserVars.add("score");
    this.serverPrivateVars.add("inventory");
  }
}

const dir = mkdtempSync(join(tmpdir(), "mmo-vars-"));
const persistence = { store: new FileWorldStore(dir), identity: new IdentitySigner(Buffer.from("vars-test-secret-0123456789abcdef")), snapshotSeconds: 60 };
const base: MMOSettingsInput = { proximityUpdateMillis: 50, maxMessagesPerSecond: 1000, reconnectSeconds: 0, drainSeconds: 0 };
let colyseus: ColyseusTestServer;

beforeAll(async () => {
  colyseus = await bootRooms({
    // The default policy: clients write no Room Variables.
    mmo: defineRoom(VarsRoom, { settings: base, persistence }).filterBy(["world"]),
    // Clients may write `topic` and `mood`, twice a second.
    mmo_listed: defineRoom(VarsRoom, { settings: { ...base, roomVarsClientWrite: ["topic", "mood"], roomVarsWritesPerSecond: 2 } }).filterBy(["world"]),
    // Any name, no practical rate limit (to reach the count cap).
    mmo_any: defineRoom(VarsRoom, { settings: { ...base, roomVarsClientWrite: "any", roomVarsWritesPerSecond: 100 } }).filterBy(["world"]),
  });
});
afterAll(async () => {
  await colyseus.shutdown();
});

async function enter(world: string, name: string, type = "mmo"): Promise<SDKRoom<MMOState>> {
  if (type === "mmo") return joinWorld(colyseus.sdk, { world, name });
  const room = await colyseus.sdk.joinOrCreate<MMOState>(type, { world, name });
  registerServerMessages(room);
  return room;
}

/** Sends `payload` as `type` and returns the error the room answers with. */
async function refused(room: SDKRoom, type: string, payload: unknown): Promise<MMOError> {
  const error = nextMessage<MMOError>(room, "error");
  room.send(type, payload);
  return error;
}

const TYPED = { score: 250, alive: true, hp: 0.5, hat: "red", bag: { gold: 3, items: ["key", "map"] }, path: [1, 2, 3] } satisfies Record<string, VarValue>;

describe("typed variables", () => {
  it("user variables arrive at a client that sees the player with their types, and the SDK event delivers typed values", async () => {
    const alice = await enter("typed", "Alice");
    const bob = await enter("typed", "Bob");
    await placeAt(colyseus, alice, 100, 100);
    await placeAt(colyseus, bob, 150, 100);
    await until(() => bob.state.players?.get(alice.sessionId) !== undefined, "Bob sees Alice");
    const events: { changed: string[]; values: Record<string, VarValue | null> }[] = [];
    onUserVariablesUpdate(bob, (player, changed, values) => player.id === alice.sessionId && events.push({ changed: changed.sort(), values }));

    const { score: _server, ...mine } = TYPED;
    alice.send("vars", mine);
    roomOf(colyseus, alice).setUserVariables(alice.sessionId, { score: 250 });
    await until(() => readVar(bob.state.players?.get(alice.sessionId)?.vars, "score") === 250 && readVar(bob.state.players?.get(alice.sessionId)?.vars, "path") !== undefined, "Bob sees Alice's variables");
    const seen = readVars(bob.state.players.get(alice.sessionId)!.vars);
    expect(seen).toEqual(TYPED);
    expect(typeof seen.score).toBe("number");
    expect(seen.alive).toBe(true);
    expect(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, varTypeOf(v)]))).toEqual({ score: "int", alive: "bool", hp: "double", hat: "string", bag: "object", path: "array" });
    expect(roomOf(colyseus, alice).getUserVariables(alice.sessionId)).toEqual(TYPED);
    await until(() => events.flatMap((e) => e.changed).length >= 6, "the SDK reported every variable");
    expect(Object.assign({}, ...events.map((e) => e.values))).toEqual(TYPED);

    // A type change and a delete: the name moves maps, the event reports the new value and null.
    events.length = 0;
    alice.send("vars", { hat: false, hp: null });
    await until(() => events.length > 0, "the change is reported");
    expect(events[0]).toEqual({ changed: ["hat", "hp"], values: { hat: false, hp: null } });
    expect(readVar(bob.state.players.get(alice.sessionId)!.vars, "hat")).toBe(false);
    expect(readVar(bob.state.players.get(alice.sessionId)!.vars, "hp")).toBeUndefined();
    await Promise.all([alice.leave(), bob.leave()]);
  });

  it("item variables set by the server arrive typed, with onItemVariablesUpdate", async () => {
    const bob = await enter("items", "Bob");
    await placeAt(colyseus, bob, 500, 500);
    const room = roomOf(colyseus, bob);
    const chest = room.addItem("chest", { x: 520, y: 500 }, { gold: 12, open: false, loot: ["gem"] }, { trap: "HIDDEN" });
    await until(() => bob.state.items?.get(chest.id) !== undefined, "Bob sees the chest");
    expect(readVars(bob.state.items.get(chest.id)!.vars)).toEqual({ gold: 12, open: false, loot: ["gem"] });
    const events: Record<string, VarValue | null>[] = [];
    onItemVariablesUpdate(bob, (item, _changed, values) => item.id === chest.id && events.push(values));
    room.setItemVariables(chest, { gold: 13, open: true });
    await until(() => events.length > 0, "the item change is reported");
    expect(events[0]).toEqual({ gold: 13, open: true });
    expect(() => room.setItemVariables(chest, { gold: Number.NaN })).toThrow(TypeError);
    expect(() => room.setItemVariables(chest, { gold: undefined as never })).toThrow(TypeError);
    expect(readVar(chest.vars, "gold")).toBe(13);
    await bob.leave();
  });
});

describe("Room Variables", () => {
  it("set by the server, everyone in the world gets them typed (limbo included), with onRoomVariablesUpdate", async () => {
    const near = await enter("roomvars", "Near");
    const far = await enter("roomvars", "Far"); // never placed: in limbo, still in the room
    await placeAt(colyseus, near, 100, 100);
    const got: { changed: string[]; vars: Record<string, VarValue> }[] = [];
    onRoomVariablesUpdate(far, (changed, vars) => got.push({ changed: changed.sort(), vars }));
    roomOf(colyseus, near).setRoomVariables({ topic: "hello", round: 3, open: true, rules: { teams: 2 } });
    const expected = { topic: "hello", round: 3, open: true, rules: { teams: 2 } };
    await until(() => readVars(near.state.roomVars).round === 3, "Near has them");
    expect(readVars(near.state.roomVars)).toEqual(expected);
    await until(() => got.length > 0, "Far's event");
    expect(got[0]).toEqual({ changed: ["open", "round", "rules", "topic"], vars: expected });
    roomOf(colyseus, near).setRoomVariables({ round: null });
    await until(() => got.length > 1, "the delete is reported");
    expect(got[1].changed).toEqual(["round"]);
    expect(got[1].vars).not.toHaveProperty("round");
    expect(roomOf(colyseus, near).getRoomVariables()).toEqual({ topic: "hello", open: true, rules: { teams: 2 } });
    await Promise.all([near.leave(), far.leave()]);
  });

  it("client writes: refused by default (FORBIDDEN); a listed name is written for everyone; others FORBIDDEN; over the rate RATE_LIMITED", async () => {
    const a = await enter("rv-none", "A");
    expect(await refused(a, "roomVars", { topic: "mine" })).toMatchObject({ code: MMOErrorCode.FORBIDDEN, request: "roomVars" });
    expect(varNamesOf(roomOf(colyseus, a).state.roomVars)).toEqual([]);
    await a.leave();

    const w = await enter("rv-listed", "Writer", "mmo_listed");
    const r = await enter("rv-listed", "Reader", "mmo_listed");
    w.send("roomVars", { topic: "quest", mood: 7 });
    await until(() => readVar(r.state.roomVars, "mood") === 7, "the reader gets the client-written room variables");
    expect(readVar(r.state.roomVars, "topic")).toBe("quest");
    const forbidden = await refused(w, "roomVars", { topic: "x", admin: true });
    expect(forbidden).toMatchObject({ code: MMOErrorCode.FORBIDDEN });
    expect(forbidden.message).toContain("admin");
    expect(readVar(roomOf(colyseus, w).state.roomVars, "topic")).toBe("quest"); // nothing of the refused message
    // A burst: the bucket is drained by the earlier write; of 6 more, at most 2 pass.
    const errors: MMOError[] = [];
    w.onMessage("error", (e: MMOError) => errors.push(e));
    await sleep(1100);
    for (let i = 0; i < 6; i++) w.send("roomVars", { mood: 100 + i });
    await until(() => errors.length >= 4, "the excess is refused");
    await sleep(100);
    expect(errors.every((e) => e.code === MMOErrorCode.RATE_LIMITED && e.request === "roomVars")).toBe(true);
    expect(errors.length).toBe(4);
    expect(readVar(roomOf(colyseus, w).state.roomVars, "mood")).toBe(101);
    await Promise.all([w.leave(), r.leave()]);
  });

  it("client writes are bounded: at most ROOM_VAR_LIMITS.maxKeys names, values checked like user variables", async () => {
    const a = await enter("rv-any", "A", "mmo_any");
    for (let i = 0; i < ROOM_VAR_LIMITS.maxKeys; i += VAR_LIMITS.maxKeys) {
      a.send("roomVars", Object.fromEntries(Array.from({ length: VAR_LIMITS.maxKeys }, (_, k) => [`k${i + k}`, i + k])));
    }
    const room = roomOf(colyseus, a);
    await until(() => Object.keys(room.getRoomVariables()).length === ROOM_VAR_LIMITS.maxKeys, "the room variables up to the cap");
    expect(await refused(a, "roomVars", { one: 1 })).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, message: `at most ${ROOM_VAR_LIMITS.maxKeys} variables` });
    expect(await refused(a, "roomVars", { k0: Number.POSITIVE_INFINITY })).toMatchObject({ code: MMOErrorCode.BAD_REQUEST });
    a.send("roomVars", { k0: null, one: "1" }); // a delete makes room
    await until(() => room.getRoomVariables().one === "1", "a replacement fits");
    await a.leave();
  });
});

const varNamesOf = (vars: Parameters<typeof readVars>[0]) => Object.keys(readVars(vars));

describe("private user variables", () => {
  it("reach their owner only: set by the owner (privateVars) or the server, never in another client's state", async () => {
    const alice = await enter("private", "Alice");
    const bob = await enter("private", "Bob");
    await placeAt(colyseus, alice, 100, 100);
    await placeAt(colyseus, bob, 120, 100);
    const room = roomOf(colyseus, alice);
    const mine: Record<string, VarValue>[] = [];
    onPrivateVariablesUpdate(alice, (_changed, vars) => mine.push(vars));
    alice.send("privateVars", { quest: "PRIVATE-MARK", step: 2 });
    room.setUserPrivateVariables(alice.sessionId, { inventory: ["sword", "PRIVATE-MARK"] });
    await until(() => privateVariablesOf(alice).inventory !== undefined && privateVariablesOf(alice).step === 2, "Alice has her private variables");
    expect(privateVariablesOf(alice)).toEqual({ quest: "PRIVATE-MARK", step: 2, inventory: ["sword", "PRIVATE-MARK"] });
    expect(room.getUserPrivateVariables(alice.sessionId)).toEqual({ quest: "PRIVATE-MARK", step: 2, inventory: ["sword", "PRIVATE-MARK"] });
    await until(() => mine.length > 0 && mine[mine.length - 1].inventory !== undefined, "the owner-side event");
    await sleep(300); // several patches
    // Bob holds his own entry only; Alice's private values are in none of his state.
    expect([...bob.state.privateVars.keys()]).toEqual([bob.sessionId]);
    expect(JSON.stringify(bob.state.toJSON())).not.toContain("PRIVATE-MARK");
    expect(privateVariablesOf(bob)).toEqual({});
    // Not public variables either.
    expect(readVar(bob.state.players.get(alice.sessionId)!.vars, "quest")).toBeUndefined();
    await Promise.all([alice.leave(), bob.leave()]);
  });
});

describe("hostile variable writes", () => {
  const deep = { a: { b: { c: { d: { e: 1 } } } } };
  const cases: [string, Record<string, unknown>][] = [
    ["NaN", { v: Number.NaN }],
    ["Infinity", { v: Number.POSITIVE_INFINITY }],
    ["-Infinity", { v: Number.NEGATIVE_INFINITY }],
    ["NaN inside an object", { v: { a: [1, Number.NaN] } }],
    ["too deep JSON", { v: deep }],
    ["too big JSON", { v: ["x".repeat(VAR_LIMITS.maxJsonBytes)] }],
    ["too long string", { v: "x".repeat(VAR_LIMITS.maxValueLength + 1) }],
    ["too many keys", Object.fromEntries(Array.from({ length: VAR_LIMITS.maxKeys + 1 }, (_, i) => [`k${i}`, i]))],
    ["no keys", {}],
    ["a bad key", { "bad key": 1 }],
    ["a reserved key", { constructor: 1 }],
    ["a date (msgpack timestamp)", { v: new Date(0) }],
    ["bytes", { v: new Uint8Array([1, 2, 3]) }],
  ];
  for (const type of ["vars", "privateVars", "roomVars"]) {
    it(`${type}: every malformed payload gets BAD_REQUEST and changes nothing`, async () => {
      const a = await enter(`hostile-${type}`, "A", "mmo_any");
      await placeAt(colyseus, a, 10, 10);
      const room = roomOf(colyseus, a);
      const read = () =>
        type === "vars" ? room.getUserVariables(a.sessionId) : type === "privateVars" ? room.getUserPrivateVariables(a.sessionId) : room.getRoomVariables();
      for (const [what, payload] of cases) {
        const e = await refused(a, type, payload).catch((err: Error) => ({ what, err: err.message }));
        expect(e, what).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, request: type });
        await sleep(15); // under the roomVars rate
      }
      for (const payload of [null, "text", 42, [1, 2], true]) {
        expect(await refused(a, type, payload)).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, request: type });
        await sleep(15);
      }
      expect(read()).toEqual({});
      // msgpack decoding renames a "__proto__" key: whatever arrives pollutes nothing.
      a.send(type, { v: JSON.parse('{"__proto__": {"polluted": true}}') });
      await sleep(100);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
      await a.leave();
    });
  }

  it("read-only names: a server-only user variable (score) or private variable (inventory) is refused whole", async () => {
    const a = await enter("readonly", "A");
    const room = roomOf(colyseus, a);
    expect(await refused(a, "vars", { score: 999, hat: "x" })).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, message: "read-only variable: score" });
    expect(await refused(a, "privateVars", { inventory: ["everything"], gold: 1 })).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, message: "read-only variable: inventory" });
    // Private and public budgets are separate: 16 of each.
    a.send("vars", Object.fromEntries(Array.from({ length: VAR_LIMITS.maxKeys }, (_, i) => [`p${i}`, i])));
    a.send("privateVars", Object.fromEntries(Array.from({ length: VAR_LIMITS.maxKeys }, (_, i) => [`q${i}`, i])));
    await until(() => Object.keys(room.getUserPrivateVariables(a.sessionId)).length === VAR_LIMITS.maxKeys, "16 private");
    expect(Object.keys(room.getUserVariables(a.sessionId))).toHaveLength(VAR_LIMITS.maxKeys);
    expect(await refused(a, "privateVars", { one: 1 })).toMatchObject({ code: MMOErrorCode.BAD_REQUEST, message: `at most ${VAR_LIMITS.maxKeys} variables` });
    await a.leave();
  });
});

describe("persistence keeps the types", () => {
  it("a returning player's public and private variables, the Room Variables and item variables come back typed after the room is disposed", async () => {
    const first = await enterWithIdentity(colyseus, "keep-types", "Keeper");
    const server = roomOf(colyseus, first.room);
    await placeAt(colyseus, first.room, 300, 300);
    const chest = server.addItem("chest", { x: 10, y: 10 }, { gold: 12, open: false, loot: { gems: [1, 2] } }, { trap: true });
    server.setUserVariables(first.room.sessionId, { score: 250 });
    server.setUserPrivateVariables(first.room.sessionId, { inventory: ["sword"], quest: { step: 2, done: false } });
    server.setRoomVariables({ topic: "saved", round: 3, open: true, d: 0.25 });
    first.room.send("vars", { alive: true, hp: 0.5 });
    await until(() => server.getUserVariables(first.room.sessionId).hp === 0.5, "vars set");
    await first.room.leave();
    await until(() => colyseus.getRoomById(first.room.roomId) === undefined, "the room is disposed");
    await sleep(100);

    const back = await enterWithIdentity(colyseus, "keep-types", "Keeper", first.token);
    const restored = roomOf(colyseus, back.room);
    expect(restored).not.toBe(server);
    expect(restored.getUserVariables(back.room.sessionId)).toEqual({ score: 250, alive: true, hp: 0.5 });
    expect(restored.getUserPrivateVariables(back.room.sessionId)).toEqual({ inventory: ["sword"], quest: { step: 2, done: false } });
    expect(restored.getRoomVariables()).toEqual({ topic: "saved", round: 3, open: true, d: 0.25 });
    expect(readVars(restored.getItemById(chest.id)!.vars)).toEqual({ gold: 12, open: false, loot: { gems: [1, 2] } });
    // And the client gets them typed: its own private ones too.
    await until(() => privateVariablesOf(back.room).inventory !== undefined, "the client gets its private variables back");
    expect(privateVariablesOf(back.room)).toEqual({ inventory: ["sword"], quest: { step: 2, done: false } });
    expect(readVars(back.room.state.roomVars)).toEqual({ topic: "saved", round: 3, open: true, d: 0.25 });
    await back.room.leave();
  });

  it("a snapshot through JSON (as a store writes it) restores every type", () => {
    const settings = { aoi: { x: 100, y: 100, z: 0 }, aoiLeaveMargin: 10, mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 1000, y: 1000, z: 0 } }, speed: 100, patchRate: 50 };
    const world = new World(World.createState(settings), settings as never);
    world.addItem("chest", { x: 1, y: 1 }, { n: 1, d: 1.5, b: true, s: "1", o: { a: [true, null] } });
    writeVar(world.state.roomVars, "r", [1, "2", false]);
    const again = new World(World.createState(settings), settings as never);
    restoreSnapshot(again, new PlayerMemory(), JSON.parse(JSON.stringify(takeSnapshot(world, new PlayerMemory(), []))));
    expect(readVars([...again.state.items.values()][0].vars)).toEqual({ n: 1, d: 1.5, b: true, s: "1", o: { a: [true, null] } });
    expect(readVars(again.state.roomVars)).toEqual({ r: [1, "2", false] });
  });
});

describe("wire cost of a changed int variable (the representation's bytes)", () => {
  // Today's representation before typed variables: one map of strings per entity.
  class OldEntity extends Schema {
    @type("number") x = 0;
    @type({ map: "string" }) vars = new MapSchema<string>();
  }
  class OldState extends Schema {
    @view() @type({ map: OldEntity }) players = new MapSchema<OldEntity>();
  }
  /** Bytes of one patch of `change` to a player 7 of 50 a view sees (the view pass, shared bytes excluded). */
  function patchBytes<S extends Schema>(state: S, map: MapSchema<Schema>, make: () => Schema, setup: (e: Schema) => void, change: (e: Schema) => void): number {
    const encoder = new Encoder(state);
    for (let i = 0; i < 50; i++) map.set(`p${i}`, make());
    const target = map.get("p7")!;
    setup(target);
    const v = new StateView();
    v.add(target);
    encoder.encodeAll();
    encoder.encodeAllView(v, 0, { offset: 0 });
    encoder.discardChanges();
    const measure = (fn: () => void) => {
      fn();
      const it = { offset: 0 };
      encoder.encode(it);
      const shared = it.offset;
      const bytes = encoder.encodeView(v, shared, it).length - shared;
      encoder.discardChanges();
      return bytes;
    };
    return measure(() => change(target));
  }
  const old = (setup: (m: MapSchema<string>) => void, change: (m: MapSchema<string>) => void) => {
    const s = new OldState();
    return patchBytes(s, s.players as never, () => new OldEntity(), (e) => setup((e as OldEntity).vars), (e) => change((e as OldEntity).vars));
  };
  const typed = (setup: (p: Player) => void, change: (p: Player) => void) => {
    const s = new MMOState();
    return patchBytes(s, s.players as never, () => new Player(), (e) => setup(e as Player), (e) => change(e as Player));
  };

  it("tagged values cost what the old string map did: the same for numbers, less for booleans, one byte more for strings", () => {
    const bytes = {
      oldInt: old((m) => m.set("score", "250"), (m) => m.set("score", "251")),
      typedInt: typed((p) => writeVar(p.vars, "score", 250), (p) => writeVar(p.vars, "score", 251)),
      oldBigInt: old((m) => m.set("score", "25000"), (m) => m.set("score", "25100")),
      typedBigInt: typed((p) => writeVar(p.vars, "score", 25000), (p) => writeVar(p.vars, "score", 25100)),
      oldBool: old((m) => m.set("alive", "false"), (m) => m.set("alive", "true")),
      typedBool: typed((p) => writeVar(p.vars, "alive", false), (p) => writeVar(p.vars, "alive", true)),
      oldString: old((m) => m.set("hat", "red"), (m) => m.set("hat", "blue")),
      typedString: typed((p) => writeVar(p.vars, "hat", "red"), (p) => writeVar(p.vars, "hat", "blue")),
      oldNew: old(() => {}, (m) => m.set("score", "250")),
      typedNew: typed(() => {}, (p) => writeVar(p.vars, "score", 250)),
      baseline: typed(() => {}, () => {}),
    };
    console.log(`var patch bytes: ${JSON.stringify(bytes)}`);
    // One map of tagged strings (src/shared/vars.ts): a number is its decimal text, as the old
    // map had it; a boolean is one character ("t"/"f"); a string carries a one-character tag.
    expect(bytes.typedInt).toBeLessThanOrEqual(bytes.oldInt);
    expect(bytes.typedBigInt).toBeLessThanOrEqual(bytes.oldBigInt);
    expect(bytes.typedBool).toBeLessThan(bytes.oldBool);
    expect(bytes.typedString).toBeLessThanOrEqual(bytes.oldString + 1);
    expect(bytes.typedNew).toBeLessThanOrEqual(bytes.oldNew);
  });
});

describe("wire form of a variable (one map of tagged strings)", () => {
  it("every type round-trips through its text, whatever a string starts with", () => {
    const values: VarValue[] = [true, false, 0, 250, -3, 0.5, -1.25e-7, 1e21, Number.MAX_SAFE_INTEGER, 5e-324, "", "t", "f", "s", "123", "-", "{not json", "[", "red", "é✓", {}, [], { gold: 3, items: ["key"] }, [1, "2", false, null]];
    for (const value of values) expect(decodeVarValue(encodeVarValue(value)), JSON.stringify(value)).toEqual(value);
    expect([true, false, 250, -3, 0.5, "red", { a: 1 }, [1]].map(encodeVarValue)).toEqual(["t", "f", "250", "-3", "0.5", "sred", '{"a":1}', "[1]"]);
  });

  it("a text that is no value reads as unset", () => {
    for (const text of [undefined, "", "x", "tt", "fa", "-", "1.2.3", "{", "[1,"]) expect(decodeVarValue(text), String(text)).toBeUndefined();
  });

  it("a type change is a new value under the same name; null deletes; an unchanged value writes nothing", () => {
    const vars = new Vars();
    writeVar(vars, "x", 1);
    writeVar(vars, "x", "1");
    expect([readVar(vars, "x"), varCount(vars)]).toEqual(["1", 1]);
    writeVar(vars, "x", [1]);
    writeVar(vars, "y", false);
    expect(readVars(vars)).toEqual({ x: [1], y: false });
    expect(varNames(vars)).toEqual(["x", "y"]);
    writeVar(vars, "x", null);
    writeVar(vars, "nope", null);
    expect([hasVar(vars, "x"), varNames(vars)]).toEqual([false, ["y"]]);
  });
});
