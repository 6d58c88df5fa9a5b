import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, freePort, onLines } from "../scripts/lib";
import { FileWorldStore } from "../src/framework";
import { SAME_CTRL_C_MS } from "../src/ops/drain";
import { CloseCodes } from "../src/shared/codes";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { readVar } from "../src/shared/vars";

// Signals as the old deploy recipe delivered them: the tsx CLI is the parent of the server
// and both lead one process group; systemd's default KillMode=control-group signals the whole
// group, and tsx relays what it gets to its child (when the child's report of the signal does
// not reach it within 30 ms), so the server may see each signal twice. The server must drain
// all the same: src/ops/drain.ts. (tsx runs on Node 22 here: `node_modules/.bin/tsx` would
// pick the system Node.) Each run is a fresh process group, all SIGKILLed in afterAll.
const NODE = join(ROOT, "node_modules/node/bin/node");
const TSX_CLI = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const RUNS = 10;

interface Group {
  child: ChildProcess;
  pid: number;
  endpoint: string;
  dataDir: string;
  output(): string;
  /** The group leader's exit code (the tsx CLI exits with its child's code, or 128 + the signal). */
  exited: Promise<number | null>;
}

const groups: Group[] = [];

afterAll(() => {
  for (const g of groups) signalGroup(g, "SIGKILL");
});

/** Sends `signal` to every process of the group (as systemd and a terminal's Ctrl-C do). */
function signalGroup(g: Group, signal: NodeJS.Signals): void {
  try {
    process.kill(-g.pid, signal);
  } catch {
    // the group is gone already
  }
}

function groupAlive(g: Group): boolean {
  try {
    process.kill(-g.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `p`, or a rejection naming `what` after `ms` (so a hang fails the run instead of blocking it). */
function within<T>(p: Promise<T>, ms: number, what: string, g?: Group): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms${g ? `:\n${g.output().slice(-2000)}` : ""}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function until(predicate: () => boolean, ms: number, what: string, g?: Group): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`no ${what} within ${ms} ms${g ? `:\n${g.output().slice(-2000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The old recipe: `tsx src/index.ts`, the tsx CLI as the server's parent. */
const OLD_RECIPE = [TSX_CLI, "src/index.ts"];
/** deploy/mmo.service and deploy/ecosystem.config.cjs: Node 22 is the server, tsx a loader in it. */
const NEW_RECIPE = ["--import", "tsx", "src/index.ts"];

/** The server started with `args` on Node 22, leading its own process group, listening. */
async function startGroup(drainSeconds: number, args = OLD_RECIPE): Promise<Group> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-signals-"));
  const env = {
    ...process.env,
    PORT: String(port),
    NODE_ENV: "production",
    MONITOR_PASSWORD: "signals-test-monitor-password",
    METRICS_TOKEN: "signals-test-metrics-token",
    MMO_DATA_DIR: dataDir,
    MMO_DRAIN_SECONDS: String(drainSeconds),
    GAME_GEMS: "2",
    GAME_NPCS: "0",
    IDENTITY_SECRET: "signals-test-secret-0123456789abcdefghij",
  };
  const child = spawn(NODE, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  onLines(child.stdout, (line) => (out += `${line}\n`));
  onLines(child.stderr, (line) => (out += `${line}\n`));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const g: Group = { child, pid: child.pid!, endpoint: `http://127.0.0.1:${port}`, dataDir, output: () => out, exited };
  groups.push(g);
  await Promise.race([
    until(() => out.includes("Listening on"), 20_000, '"Listening on"', g),
    exited.then((code) => Promise.reject(new Error(`exited with ${code} before listening:\n${out.slice(-2000)}`))),
  ]);
  return g;
}

/** The server process: the tsx parent's only child. */
function serverPid(g: Group): number {
  const children = readFileSync(`/proc/${g.pid}/task/${g.pid}/children`, "utf8").trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(1);
  return children[0];
}

interface Player {
  room: Room<MMOState>;
  /** When `server_shutdown` arrived (ms since the epoch), if it did. */
  shutdownAt(): number | undefined;
  /** The first close code the client saw (a drop counts: 1006 is what a killed server leaves). */
  closed: Promise<number>;
}

/**
 * A client in world "sig", out of limbo at (x, y) with the variable `note` (both seen back in
 * the state): a player with progress, so the world's snapshot remembers it.
 */
async function play(g: Group, x: number, y: number, note = "here"): Promise<Player> {
  const room = await within(joinWorld(new Client(g.endpoint), { world: "sig" }), 5000, "join", g);
  let shutdownAt: number | undefined;
  room.onMessage("server_shutdown", () => (shutdownAt ??= Date.now()));
  room.onMessage("*", () => {});
  const closed = new Promise<number>((resolve) => {
    room.onDrop((code: number) => resolve(code));
    room.onLeave((code: number) => resolve(code));
  });
  room.send("position", { x, y });
  room.send("vars", { note });
  const me = () => room.state.players?.get(room.sessionId);
  await until(() => me()?.x === x && me()?.y === y && readVar(me()?.vars, "note") === note, 5000, "position and variable in the state", g);
  return { room, shutdownAt: () => shutdownAt, closed };
}

describe("signals to the server's process group", () => {
  it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(
    "run %i: the old recipe (tsx CLI as the parent): SIGTERM to the group drains: server_shutdown, close 4001, the group exits, the final snapshot is written",
    async (run) => {
      const g = await startGroup(1);
      const x = 1000 + run;
      const y = 2000 + run;
      const p = await play(g, x, y, `run-${run}`);
      const sentAt = Date.now();
      signalGroup(g, "SIGTERM");

      const code = await within(p.closed, 6000, "close", g);
      const shutdownAt = p.shutdownAt();
      const context = `shutdown ${shutdownAt === undefined ? "never" : `after ${shutdownAt - sentAt} ms`}, closed ${code} after ${Date.now() - sentAt} ms\n${g.output().slice(-1500)}`;
      expect(shutdownAt, context).toBeDefined();
      expect(code, context).toBe(CloseCodes.SERVER_SHUTDOWN);
      // The drain lasted (1 s): the server was not killed right after telling its clients.
      expect(Date.now() - shutdownAt!, context).toBeGreaterThanOrEqual(900);

      const exitCode = await within(g.exited, 5000, "exit of the tsx parent", g);
      await until(() => !groupAlive(g), 3000, "exit of the whole process group", g);
      expect(exitCode, g.output()).toBe(0);
      // The last snapshot (written on drain and dispose: the periodic one, every 5 s, never
      // came) holds the player as it was just before the signal.
      const saved = await new FileWorldStore(g.dataDir).load("sig");
      expect(saved, "world file").toBeDefined();
      const players = Object.values(saved!.players).map((s) => ({ x: s.x, y: s.y, note: s.vars.note }));
      expect(players, JSON.stringify(saved)).toContainEqual({ x, y, note: `run-${run}` });
    },
    20_000,
  );

  it("the deploy recipes' command (Node 22 itself, --import tsx) drains on SIGTERM to its group", async () => {
    const g = await startGroup(1, NEW_RECIPE);
    const p = await play(g, 900, 950);
    signalGroup(g, "SIGTERM");
    const code = await within(p.closed, 6000, "close", g);
    expect(p.shutdownAt(), g.output()).toBeDefined();
    expect(code, g.output()).toBe(CloseCodes.SERVER_SHUTDOWN);
    expect(await within(g.exited, 5000, "exit", g), g.output()).toBe(0);
    expect(g.output()).not.toContain("already draining");
  }, 20_000);

  it("SIGTERM again during the drain (as tsx relays it when the server's report is late) is ignored and logged", async () => {
    const g = await startGroup(1);
    const p = await play(g, 700, 800);
    const server = serverPid(g);
    signalGroup(g, "SIGTERM");
    for (const delay of [40, 100]) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        process.kill(server, "SIGTERM");
      } catch {
        // the server is gone already: the assertions below say how it left its client
      }
    }
    const code = await within(p.closed, 6000, "close", g);
    expect(p.shutdownAt(), g.output()).toBeDefined();
    expect(code, g.output()).toBe(CloseCodes.SERVER_SHUTDOWN);
    expect(Date.now() - p.shutdownAt()!, g.output()).toBeGreaterThanOrEqual(900);
    expect(await within(g.exited, 5000, "exit", g), g.output()).toBe(0);
    expect(g.output().match(/already draining: ignoring SIGTERM/g)?.length ?? 0, g.output()).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it("SIGINT to the group (Ctrl-C) once drains like SIGTERM and says how to stop now", async () => {
    const g = await startGroup(1);
    const p = await play(g, 300, 400);
    signalGroup(g, "SIGINT");
    const code = await within(p.closed, 6000, "close", g);
    expect(p.shutdownAt(), g.output()).toBeDefined();
    expect(code, g.output()).toBe(CloseCodes.SERVER_SHUTDOWN);
    expect(await within(g.exited, 5000, "exit", g), g.output()).toBe(0);
    expect(g.output()).toContain("draining; press Ctrl-C again to stop now");
  }, 20_000);

  it("a second SIGINT during the drain exits at once (130) and says so", async () => {
    const g = await startGroup(60);
    const p = await play(g, 500, 600);
    signalGroup(g, "SIGINT");
    await until(() => g.output().includes("press Ctrl-C again to stop now"), 3000, "the drain notice", g);
    await until(() => p.shutdownAt() !== undefined, 3000, "server_shutdown", g);
    // A person's second Ctrl-C, not the same one delivered twice.
    await new Promise((r) => setTimeout(r, 2 * SAME_CTRL_C_MS));
    const sentAt = Date.now();
    signalGroup(g, "SIGINT");
    expect(await within(g.exited, 3000, "exit after the second SIGINT", g), g.output()).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(3000);
    await until(() => !groupAlive(g), 3000, "exit of the whole process group", g);
    expect(g.output()).toMatch(/second SIGINT.*stopping now/);
  }, 20_000);
});
