import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedProcess, ROOT, startProcess, waitForOutput } from "../scripts/lib";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { IdentitySigner } from "../src/framework/persistence/identity";
import type { Item, MMOState } from "../src/shared/schema";
import { onChat } from "../src/shared/sdk";
import { serverMessages } from "../src/shared/wire";
import { bootMMO, enterWithIdentity, placeAt, roomOf, until } from "./helpers/server";

// The SDK as another project gets it (issue 13): `npm pack` the workspace package, install the
// tarball into a fresh app in a temporary directory (no decorator settings anywhere), compile
// a TypeScript file against its types, and run clients with it against a server booted here.

const run = promisify(execFile);
const FIXTURES = join(ROOT, "test/fixtures/sdk-app");
/** Node 22 first on PATH (@colyseus/sdk needs it), and none of the npm settings of the `npm test` that runs us. */
const childEnv = Object.fromEntries(
  Object.entries({ ...process.env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` }).filter(([k]) => !/^npm_/i.test(k) && k !== "INIT_CWD"),
);
const npm = (args: string[], cwd: string, ms = 120_000) => run("npm", args, { cwd, env: childEnv, timeout: ms, maxBuffer: 16 << 20 });
const tsc = (args: string[], cwd: string) => run(join(ROOT, "node_modules/.bin/tsc"), args, { cwd, env: childEnv, timeout: 60_000 }).then(
  () => "",
  (e: { stdout?: string; message: string }) => e.stdout || e.message,
);

let colyseus: ColyseusTestServer;
let endpoint = "";
let bob: SDKRoom<MMOState>;
let item: Item;
let app = "";
let tarball = { file: "", bytes: 0, unpackedBytes: 0 };
const children: ManagedProcess[] = [];
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};

beforeAll(async () => {
  colyseus = await bootMMO({ proximityUpdateMillis: 50, reconnectSeconds: 0, drainSeconds: 1 }, undefined, {
    persistence: { store: new FileWorldStore(temp("mmo-sdk-worlds-")), identity: new IdentitySigner(Buffer.from("sdk-package-test-secret")) },
  });
  endpoint = `http://127.0.0.1:${(colyseus.server as unknown as { port: number }).port}`;

  // The package, packed as it would be published (`prepack` builds it: tsup).
  const packDir = temp("mmo-sdk-pack-");
  const { stdout } = await npm(["pack", "-w", "@colyseus-mmo/sdk", "--pack-destination", packDir, "--json"], ROOT);
  // `prepack` (tsup) logs first; npm's JSON report follows.
  const [packed] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  expect(packed.files.map((f) => f.path).sort()).toEqual(["dist/index.d.ts", "dist/index.js", "package.json"]);
  tarball = { file: join(packDir, packed.filename), bytes: packed.size, unpackedBytes: packed.unpackedSize };

  // A fresh app: package.json and the README's install line, nothing else.
  app = temp("mmo-sdk-app-");
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
  await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "@colyseus/sdk@0.18.4", tarball.file], app);
  for (const f of ["client.mjs", "check.ts"]) copyFileSync(join(FIXTURES, f), join(app, f));

  // The other player, in the same world: placed where the apps' players will see it.
  ({ room: bob } = await enterWithIdentity(colyseus, "forest", "Bob"));
  await placeAt(colyseus, bob, 120, 100);
  item = roomOf(colyseus, bob).addItem("gem", { x: 130, y: 100 }, { shine: "dull" });
}, 240_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop("SIGKILL")));
  await colyseus?.shutdown();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Runs `node args` in the app; killed by afterAll if a test gives up on it. */
async function node(args: string[]): Promise<ManagedProcess> {
  const child = await startProcess(process.execPath, args, { cwd: app, env: { ...childEnv, GAME_SERVER: endpoint } });
  children.push(child);
  return child;
}

/** The JSON lines a check.js run printed, by event. */
function events(p: ManagedProcess): Map<string, unknown[]> {
  const got = new Map<string, unknown[]>();
  for (const line of p.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    const { event, data } = JSON.parse(line) as { event: string; data: unknown };
    got.set(event, [...(got.get(event) ?? []), data]);
  }
  return got;
}

describe("@colyseus-mmo/sdk, installed from its tarball into a fresh app", () => {
  it("is a small ESM package whose schema classes carry no decorators, depending on the app's @colyseus/sdk and @colyseus/schema", () => {
    const installed = join(app, "node_modules/@colyseus-mmo/sdk");
    const js = readFileSync(join(installed, "dist/index.js"), "utf8");
    expect(js).not.toMatch(/^\s*@type\(/m); // decorators compiled to calls
    expect(js).toMatch(/from "@colyseus\/schema"/);
    expect(js).not.toMatch(/zod/);
    expect(tarball.bytes).toBeLessThan(20_000);
    // One copy of the schema library: the app's, shared with @colyseus/sdk's decoder.
    const copies = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (!statSync(path).isDirectory()) return [];
        return name === "schema" && dir.endsWith("@colyseus") ? [path] : copies(path);
      });
    expect(copies(join(app, "node_modules"))).toEqual([join(app, "node_modules/@colyseus/schema")]);
  });

  it("type-checks under the tsconfig `tsc --init` writes (strict, nodenext, no decorator settings) and under bundler resolution", async () => {
    await run(join(ROOT, "node_modules/.bin/tsc"), ["--init"], { cwd: app, env: childEnv });
    const config = readFileSync(join(app, "tsconfig.json"), "utf8");
    expect(config).toMatch(/"module": "nodenext"/);
    expect(config).toMatch(/"strict": true/);
    expect(config).not.toMatch(/experimentalDecorators|useDefineForClassFields/);
    expect(await tsc(["-p", "."], app)).toBe(""); // emits check.js, run below
    expect(await tsc(["-p", ".", "--noEmit", "--module", "esnext", "--moduleResolution", "bundler"], app)).toBe("");
    // Its own .d.ts is clean even checked as source (@colyseus/sdk's needs @types/node and skipLibCheck).
    const strict = await tsc(["-p", ".", "--noEmit", "--skipLibCheck", "false"], app);
    expect(strict.split("\n").filter((l) => l.includes("@colyseus-mmo"))).toEqual([]);
  }, 60_000);

  it("decodes the server's state into its own compiled classes, field for field; variable updates arrive by name", async () => {
    const cid = await node(["check.js", endpoint]);
    await waitForOutput(cid, '"event":"snapshot"', 15_000);
    const [snap] = events(cid).get("snapshot") as Array<{ sessionId: string; instances: Record<string, boolean>; state: Record<string, unknown> }>;
    expect(snap.instances).toEqual({ state: true, vectors: true, players: true, items: true });
    const server = roomOf(colyseus, bob).state.toJSON() as Record<string, unknown> & { players: Record<string, unknown>; items: Record<string, unknown> };
    const { players, items, privateVars, ...rest } = snap.state as typeof server;
    const { players: allPlayers, items: allItems, privateVars: allPrivate, ...serverRest } = server;
    // Private variables: the client holds its own entry only.
    expect(Object.keys(privateVars as object)).toEqual([snap.sessionId]);
    expect(Object.keys(allPrivate as object).length).toBe(2);
    expect(rest).toEqual(serverRest); // userCount, aoi, map limits, speed...
    expect(Object.keys(serverRest).length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(players).sort()).toEqual([bob.sessionId, snap.sessionId].sort());
    for (const id of Object.keys(players)) expect(players[id], id).toEqual(allPlayers[id]);
    expect(items).toEqual({ [item.id]: allItems[item.id] });

    // A variable set, then deleted (one patch each), then an item's.
    const userVars = () => events(cid).get("user-vars") ?? [];
    bob.send("vars", { hat: "red", level: 3, vip: true, bag: { gold: 1 } });
    await until(() => userVars().length === 1, "hat set, seen by check.js");
    bob.send("vars", { hat: null });
    await until(() => userVars().length === 2, "hat deleted, seen by check.js");
    const server2 = roomOf(colyseus, bob);
    server2.setRoomVariables({ round: 2, open: true });
    await until(() => (events(cid).get("room-vars") ?? []).length === 1, "room variables, seen by check.js");
    server2.setUserPrivateVariables(snap.sessionId, { bag: ["key"] });
    await until(() => (events(cid).get("private-vars") ?? []).length >= 1, "private variables, seen by check.js");
    server2.setItemVariables(item, { shine: "bright", power: 2.5 });
    expect(await cid.exited).toBe(0);
    expect(userVars()).toEqual([
      {
        id: bob.sessionId,
        changed: ["bag", "hat", "level", "vip"],
        values: { hat: "red", level: 3, vip: true, bag: { gold: 1 } },
        types: ["object", "string", "number", "boolean"],
        read: [{ gold: 1 }, "red", 3, true],
      },
      { id: bob.sessionId, changed: ["hat"], values: { hat: null }, types: ["object"], read: [null] },
    ]);
    expect(events(cid).get("room-vars")).toEqual([{ changed: ["open", "round"], roomVars: { round: 2, open: true } }]);
    expect(events(cid).get("private-vars")).toEqual([{ changed: ["bag"], privateVars: { bag: ["key"] } }]);
    expect(events(cid).get("item-vars")).toEqual([{ id: item.id, changed: ["shine", "power"].sort(), values: { shine: "bright", power: 2.5 } }]);
  }, 30_000);

  it("the README's client (client.mjs): joins, sees the other player, is refused in limbo, chats, gets the drain notice; no 'not registered' warning", async () => {
    let adaId = "";
    // Only Ada says "hello Bob". Matching on her id raced: under load her chat could reach Bob
    // before this test had read the id from her output, and Bob never answered (a CI failure).
    onChat(bob, ({ text }) => {
      if (text !== "hello Bob") return;
      bob.send("chat", { text: "hi Ada" });
      bob.send("vars", { mood: "glad" });
    });
    const ada = await node(["client.mjs"]);
    await waitForOutput(ada, "joined", 10_000);
    adaId = /as (\S+)/.exec(ada.output())![1];
    await waitForOutput(ada, "Bob set", 10_000);
    // The server sent Ada a guest identity (a first join with persistence): handled, no warning.
    expect(roomOf(colyseus, bob).getSession(adaId)?.identity).toBeTruthy();
    roomOf(colyseus, bob).onBeforeShutdown(); // the drain: server_shutdown, then 4001 after drainSeconds
    expect(await ada.exited).toBe(0);
    const lines = ada.output().trim().split("\n");
    const inOrder = [`joined ${bob.roomId} as ${adaId}`, "refused chat: IN_LIMBO", "Bob appeared at 120,100", "Ada: hello Bob", "Bob: hi Ada", "server closing in 1 s", "left (4001)"];
    const anyOrder = [`Ada set mood="curious"`, `Bob set mood="glad"`];
    expect([...lines].sort()).toEqual([...inOrder, ...anyOrder].sort());
    expect(lines.filter((l) => inOrder.includes(l))).toEqual(inOrder);
    expect(ada.output()).not.toMatch(/not registered|warn/i);
  }, 30_000);
});

describe("serverMessages (src/shared/wire.ts)", () => {
  it("lists every message type the room sends (src/framework, src/game, src/ops)", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
    const sent = new Set<string>();
    // The lobby is a room of its own, whose messages src/shared/lobby.ts describes.
    const mmoRoomFiles = ["src/framework", "src/game", "src/ops"].flatMap((d) => files(join(ROOT, d))).filter((f) => !f.endsWith("WorldsLobby.ts"));
    for (const file of mmoRoomFiles) {
      const code = readFileSync(file, "utf8");
      for (const m of code.matchAll(/\b(?:send|broadcast)\(\s*"([^"]+)"/g)) sent.add(m[1]);
      for (const m of code.matchAll(/\bsendToProximity\([^,]+,\s*"([^"]+)"/g)) sent.add(m[1]);
      if (/\bsendError\(/.test(code)) sent.add("error");
    }
    expect(sent.size).toBeGreaterThanOrEqual(4); // the scan still finds them
    expect([...sent].filter((t) => !(t in serverMessages))).toEqual([]);
  });
});

describe("the README's SDK client", () => {
  it("is test/fixtures/sdk-app/client.mjs, word for word", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(readFileSync(join(ROOT, "test/fixtures/sdk-app/client.mjs"), "utf8").trim());
  });
});
