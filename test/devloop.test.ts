import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { Client, type Room } from "@colyseus/sdk";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, freePort, onLines } from "../scripts/lib";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { sleep, until } from "./helpers/server";

// `npm run dev` as a developer runs it: the game server in watch mode and Vite's dev server
// in one command (concurrently), on ports of the test's choosing (PORT, VITE_PORT). All of it
// is reached through Vite's port: the page, matchmaking and the room socket (proxied), and
// Vite's own HMR socket. Started as a process-group leader, stopped like a terminal's Ctrl-C.
let dev: ChildProcess;
let serverPort: number;
let vitePort: number;
let origin: string;
const lines: string[] = [];
const rooms: Room<MMOState>[] = [];
/** The file touched to make the watcher restart the server (its content is never changed). */
const WATCHED = "src/ops/drain.ts";

/** Lines so far, colours stripped. */
const output = () => lines.join("\n");

/** Resolves with the first line from index `from` on that matches `re`; rejects after `ms` or if dev exits. */
async function line(re: RegExp, ms: number, from = 0): Promise<string> {
  const start = Date.now();
  for (;;) {
    const found = lines.slice(from).find((l) => re.test(l));
    if (found) return found;
    if (dev.exitCode !== null || dev.signalCode !== null) throw new Error(`npm run dev exited before ${re}:\n${output().slice(-3000)}`);
    if (Date.now() - start > ms) throw new Error(`no line matching ${re} within ${ms} ms:\n${output().slice(-3000)}`);
    await sleep(50);
  }
}

/** True while any process of the group led by `pid` is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function enter(world: string, name: string): Promise<Room<MMOState>> {
  const room = await joinWorld(new Client(origin), { world, name });
  room.onMessage("identity", () => {});
  rooms.push(room);
  return room;
}

beforeAll(async () => {
  serverPort = await freePort();
  vitePort = await freePort();
  origin = `http://localhost:${vitePort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(serverPort),
    VITE_PORT: String(vitePort),
    MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-devloop-")),
    MONITOR_PASSWORD: "devloop",
    GAME_GEMS: "5",
    GAME_NPCS: "1",
    NO_COLOR: "1",
  };
  // As a developer's shell has it, not the test runner's NODE_ENV=test.
  delete env.NODE_ENV;
  delete env.VITE_GAME_SERVER;
  dev = spawn("npm", ["run", "dev"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (l: string) => void lines.push(stripVTControlCharacters(l));
  onLines(dev.stdout, keep);
  onLines(dev.stderr, keep);
  await line(new RegExp(`\\[server\\].*Listening on .*:${serverPort}`), 60_000);
  await line(new RegExp(`\\[client\\].*Local:.*:${vitePort}/`), 60_000);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(rooms.map((r) => Promise.race([r.leave(), sleep(1000)])));
  // Whatever the test left behind (a failure before the Ctrl-C below).
  if (dev?.pid && groupAlive(dev.pid)) process.kill(-dev.pid, "SIGKILL");
}, 30_000);

describe("npm run dev", () => {
  it("serves the client through Vite, proxies matchmaking and the room socket, keeps HMR, restarts the server on an edit, and stops as a whole", async () => {
    // The page, from Vite (its client script injected).
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="game">');
    expect(html).toContain("/@vite/client");

    // The game server's own routes, through Vite's port (Host kept: /monitor's same-origin check passes).
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const monitor = await fetch(`${origin}/monitor/api`, {
      headers: { authorization: `Basic ${Buffer.from("admin:devloop").toString("base64")}`, origin },
    });
    expect(monitor.status).toBe(200);
    expect((await fetch(`${origin}/playground/`)).status).toBe(200);

    // A client pointed at the Vite origin plays: matchmaking over HTTP, then the room socket.
    const a = await enter("devloop", "Dev");
    a.send("position", { x: 300, y: 300 });
    await until(() => a.state.players?.get(a.sessionId)?.x === 300, "the player placed, seen through the proxied socket", 5000);

    // Vite's own HMR socket still answers (the room-socket proxy does not take it).
    const hmr = new WebSocket(`ws://localhost:${vitePort}/`, "vite-hmr");
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      hmr.once("message", (data) => resolve(JSON.parse(String(data)) as { type: string }));
      hmr.once("error", reject);
      setTimeout(() => reject(new Error("no HMR message within 5 s")), 5000);
    });
    expect(first.type).toBe("connected");
    hmr.close();

    // An edit of a server source (only its time here) restarts the server: watch mode.
    const from = lines.length;
    const { atime } = statSync(join(ROOT, WATCHED));
    const t0 = Date.now();
    utimesSync(join(ROOT, WATCHED), atime, new Date());
    await line(/\[server\].*(Restarting|Rerunning)/, 15_000, from);
    await line(new RegExp(`\\[server\\].*Listening on .*:${serverPort}`), 30_000, from);
    console.log(`server restarted ${((Date.now() - t0) / 1000).toFixed(1)} s after the edit`);
    const again = await enter("devloop", "Dev again");
    again.send("position", { x: 320, y: 300 });
    await until(() => again.state.players?.get(again.sessionId)?.x === 320, "playing on the restarted server", 5000);
    expect(again.roomId).not.toBe(a.roomId);

    // Ctrl-C: SIGINT to the whole process group; everything is gone, nothing is left over.
    const pid = dev.pid!;
    const stopped = Date.now();
    process.kill(-pid, "SIGINT");
    while (groupAlive(pid) && Date.now() - stopped < 20_000) await sleep(100);
    const seconds = (Date.now() - stopped) / 1000;
    expect(groupAlive(pid), `processes of npm run dev still alive ${seconds.toFixed(1)} s after SIGINT:\n${output().slice(-2000)}`).toBe(false);
    console.log(`npm run dev stopped ${seconds.toFixed(1)} s after SIGINT`);
    for (const port of [serverPort, vitePort]) {
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    }
    expect(output()).not.toMatch(/Force killing/);
  }, 120_000);
});
