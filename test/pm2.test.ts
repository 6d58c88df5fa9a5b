import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, freePort } from "../scripts/lib";

// The pm2 recipe (deploy/ecosystem.config.cjs) as an operator runs it: the built server, Node
// 22, `pm2 start`, then `pm2 stop` while a player is in a world. The test's ecosystem file
// takes the recipe's first app as it is (script, interpreter, kill_timeout, wait_ready,
// treekill) and only gives it a free port, no Redis and a temporary data directory. pm2's
// daemon lives in a temporary PM2_HOME and is killed at the end.
const execFileP = promisify(execFile);
const PM2 = join(ROOT, "node_modules/pm2/bin/pm2");
const home = mkdtempSync(join(tmpdir(), "mmo-pm2-home-"));
const dataDir = mkdtempSync(join(tmpdir(), "mmo-pm2-data-"));
// pm2 takes a file for an ecosystem file by its name (*.config.cjs), else runs it as a script.
const ecosystem = join(home, "mmo-test.config.cjs");
let port: number;

function pm2(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  // pm2 on Node 22 (the repo's node@22), whatever the machine's `node` is.
  return execFileP(process.execPath, [PM2, ...args], { cwd: ROOT, env: { ...process.env, PM2_HOME: home, NODE_ENV: "" }, timeout: 60_000 });
}

beforeAll(async () => {
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale", "server", "client"], { cwd: ROOT, stdio: "pipe" });
  port = await freePort();
  writeFileSync(
    ecosystem,
    `const recipe = require(${JSON.stringify(join(ROOT, "deploy/ecosystem.config.cjs"))});
const app = recipe.apps[0];
module.exports = { apps: [{ ...app, name: "mmo-test", env: { ...app.env, PORT: ${port}, REDIS_URL: "", PUBLIC_ADDRESS: "", MMO_DRAIN_SECONDS: 2, MMO_DATA_DIR: ${JSON.stringify(dataDir)}, MONITOR_PASSWORD: "pm2-test-monitor-password", METRICS_TOKEN: "pm2-test-metrics-token" } }] };
`,
  );
}, 120_000);

afterAll(async () => {
  await pm2("kill").catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe("deploy/ecosystem.config.cjs under pm2", () => {
  it("pm2 start waits for the server's ready; pm2 stop drains it: the player is told, the world is saved, exit 0 with no SIGKILL", async () => {
    const recipe = createRequire(import.meta.url)("../deploy/ecosystem.config.cjs") as { apps: Array<{ kill_timeout: number; env: { MMO_DRAIN_SECONDS: number } }> };
    expect(recipe.apps[0].kill_timeout).toBeGreaterThan(recipe.apps[0].env.MMO_DRAIN_SECONDS * 1000);

    await pm2("start", ecosystem);
    // wait_ready: `pm2 start` returned after the server sent "ready", so it answers now.
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const [info] = JSON.parse((await pm2("jlist")).stdout) as Array<{ pid: number; pm2_env: { status: string } }>;
    expect(info.pm2_env.status).toBe("online");
    const version = execFileSync("sh", ["-c", `readlink /proc/${info.pid}/exe`]).toString().trim();
    expect(execFileSync(version, ["--version"]).toString()).toMatch(/^v22\./);

    const room = await new Client(`http://127.0.0.1:${port}`).joinOrCreate("mmo", { world: "pm2" });
    const shutdownNotice = new Promise<number>((resolve) => room.onMessage("server_shutdown", (m: { seconds: number }) => resolve(m.seconds)));
    const closed = new Promise<number>((resolve) => room.onLeave((code: number) => resolve(code)));
    room.send("position", { x: 50, y: 60, z: 0 });
    await new Promise((r) => setTimeout(r, 500));

    await pm2("stop", "mmo-test");
    expect(await shutdownNotice).toBe(2);
    expect(await closed).toBe(4001); // the drain's close, not a dropped connection
    const log = readdirSync(join(home, "logs"))
      .map((f) => readFileSync(join(home, "logs", f), "utf8"))
      .join("\n");
    expect(log).toContain("draining");
    const daemonLog = readFileSync(join(home, "pm2.log"), "utf8");
    expect(daemonLog).toMatch(/mmo-test.*exited with code \[0\]/);
    expect(daemonLog).not.toMatch(/mmo-test.*SIGKILL/);
    expect(readdirSync(dataDir).some((f) => f.startsWith("world-pm2"))).toBe(true);
  }, 90_000);
});
