import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type ManagedProcess, freePort, startProcess } from "../scripts/lib";
import { type Stage, parseDockerfile, stageEnv } from "./helpers/dockerfile";

// The production path on a fresh copy of the repository, the way the Dockerfile and the deploy
// recipes run it: `npm run build` here, then only what the Dockerfile's runtime stage copies
// (the built tree: dist/server, client/dist, packages/sdk/dist, package.json) next to a
// production-only install (`npm ci --omit=dev`, as the Dockerfile's deps stage runs it),
// and the server started by the Dockerfile's CMD, by `npm start` and by `npm run start:prod`.
// There is no Docker daemon on this machine: the Dockerfile's steps are executed here by
// reading them from the Dockerfile, and the file itself is linted with dockerfilelint.
const execFileP = promisify(execFile);
const NODE22 = join(ROOT, "node_modules/node/bin/node");
// A PATH without the repository's node_modules/.bin (vitest runs under npm, which put it
// first): the fresh copy must find its own tools, or none.
const SYSTEM_PATH = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((p) => !p.startsWith(ROOT) && !p.includes("node_modules"))
  .join(delimiter);
// What the image's `node` is: Node 22 (node:22-bookworm-slim). Here, the repo's node@22.
const IMAGE_PATH = [dirname(NODE22), SYSTEM_PATH].join(delimiter);
// Nothing of the outer `npm test` leaks into the fresh copy's npm and server.
const OUTER = Object.fromEntries(Object.keys(process.env).filter((k) => /^(npm_|VITEST|INIT_CWD|NODE_ENV$)/.test(k)).map((k) => [k, undefined]));

let app: string;
let stages: Stage[];
const running: ManagedProcess[] = [];
const dataDirs: string[] = [];

function stage(name: string): Stage {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`the Dockerfile has no stage "${name}"`);
  return s;
}

/** `/app/x` (the image's WORKDIR) -> the fresh copy. */
const inApp = (p: string) => (p.startsWith("/app") ? join(app, p.slice("/app".length)) : join(app, p));

/** Runs a Dockerfile RUN line in the fresh copy, with the image's PATH. */
async function run(line: string): Promise<void> {
  await execFileP("sh", ["-c", line], { cwd: app, env: { ...process.env, ...OUTER, PATH: IMAGE_PATH, npm_config_prefer_offline: "true" }, timeout: 240_000, maxBuffer: 32 << 20 });
}

async function startBuilt(cmd: string, args: string[], env: Record<string, string>, path = IMAGE_PATH): Promise<ManagedProcess & { port: number; dataDir: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "mmo-prod-data-"));
  const proc = await startProcess(cmd, args, {
    cwd: app,
    detached: true,
    env: { ...OUTER, PATH: path, PORT: String(port), MONITOR_PASSWORD: "prod-test-monitor-password", METRICS_TOKEN: "prod-test-metrics-token", MMO_DRAIN_SECONDS: "1", MMO_DATA_DIR: dataDir, NODE_ENV: "production", ...env },
    ready: "Listening on",
    readyMs: 60_000,
  });
  running.push(proc);
  dataDirs.push(dataDir);
  return Object.assign(proc, { port, dataDir });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!groupAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !groupAlive(pid);
}

/** A real client joins a world on the built server, takes a position and sees its own player. */
async function playOnce(port: number, world: string): Promise<void> {
  const client = new Client(`http://127.0.0.1:${port}`);
  const room = await client.joinOrCreate("mmo", { world });
  try {
    // Out of limbo (SmartFoxServer's rule: a user is placed once it sets a position).
    room.send("position", { x: 100, y: 100, z: 0 });
    const until = Date.now() + 10_000;
    while (!(room.state as { players?: Map<string, unknown> }).players?.has(room.sessionId)) {
      if (Date.now() > until) throw new Error("no state with my player within 10 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await room.leave(true);
  }
}

beforeAll(async () => {
  stages = parseDockerfile(join(ROOT, "Dockerfile"));
  // The Dockerfile's build stage: `npm run build` (its `npm install` is this checkout's own).
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "pipe" });
  app = mkdtempSync(join(tmpdir(), "mmo-prod-app-"));
  // deps stage: copy from the build context, then its RUN lines (npm ci --omit=dev --omit=optional).
  for (const i of stage("deps").instructions) {
    if (i.name === "COPY") {
      const dest = i.args.at(-1)!;
      for (const src of i.args.slice(0, -1)) {
        const target = dest.endsWith("/") ? join(inApp(dest), src.split("/").at(-1)!) : dest === "./" ? join(app, src) : inApp(dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, src), target);
      }
    }
    if (i.name === "RUN") await run(i.text);
  }
  // runtime stage: what it copies from the build stage (the built tree).
  const runtime = stages.at(-1)!;
  for (const i of runtime.instructions.filter((x) => x.name === "COPY" && x.flags.from === "build")) {
    const [src, dest] = i.args;
    mkdirSync(dirname(inApp(dest)), { recursive: true });
    cpSync(join(ROOT, src.replace(/^\/app\//, "")), inApp(dest), { recursive: true });
  }
}, 300_000);

afterAll(() => {
  for (const p of running) {
    try {
      process.kill(-p.child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  }
  for (const dir of [app, ...dataDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the Dockerfile", () => {
  it("passes dockerfilelint and has what a container needs", async () => {
    const lint = await execFileP(join(ROOT, "node_modules/.bin/dockerfilelint"), ["Dockerfile"], { cwd: ROOT }).catch((e: { stdout: string }) => e);
    expect(lint.stdout).toContain("Issues: None found");
    expect(stages.map((s) => s.image).every((image) => image.startsWith("node:22"))).toBe(true);
    const runtime = stages.at(-1)!;
    const names = runtime.instructions.map((i) => i.name);
    const user = runtime.instructions.find((i) => i.name === "USER")!;
    expect(user.args[0]).not.toMatch(/^(root|0)$/);
    expect(stageEnv(runtime).NODE_ENV).toBe("production");
    expect(runtime.instructions.find((i) => i.name === "HEALTHCHECK")!.text).toContain("/healthz");
    expect(runtime.instructions.find((i) => i.name === "ENTRYPOINT")!.args).toEqual(["/usr/bin/tini", "--"]);
    expect(names).toContain("CMD");
    // The build context leaves out what the build stage makes itself.
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", "dist", "client/dist", "data"]));
  });

  it("its steps on a fresh copy: no dev dependency, the CMD serves the game, HEALTHCHECK passes, SIGTERM drains", async () => {
    // Production dependencies only: no compiler, bundler or test runner.
    for (const dev of ["vite", "tsx", "esbuild", "vitest", "typescript", "phaser"]) expect(existsSync(join(app, "node_modules", dev)), dev).toBe(false);
    const runtime = stages.at(-1)!;
    const env = Object.fromEntries(Object.entries(stageEnv(runtime)).filter(([k]) => k === "NODE_ENV"));
    const [cmd, ...args] = runtime.instructions.find((i) => i.name === "CMD")!.args;
    const server = await startBuilt(cmd, args, env);
    expect(server.output()).toContain("Node v22");

    const page = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { "accept-encoding": "gzip" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toMatch(/src="\/assets\/main-[\w-]+\.js"/);
    await playOnce(server.port, "prod-docker");

    const healthcheck = runtime.instructions.find((i) => i.name === "HEALTHCHECK")!.text.replace(/^.*?CMD\s+/, "");
    const check = () =>
      execFileP("sh", ["-c", healthcheck], { cwd: app, env: { PATH: IMAGE_PATH, PORT: String(server.port) }, timeout: 10_000 }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? 1,
      );
    expect(await check()).toBe(0);

    // tini hands `docker stop`'s SIGTERM to the server: the server alone gets one.
    process.kill(server.child.pid!, "SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    expect(await check()).not.toBe(0); // 503 while draining, then refused
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain("SIGTERM: draining");
    expect(readdirSync(server.dataDir).some((f) => f.startsWith("world-prod-docker"))).toBe(true); // the final snapshot
  }, 90_000);
});

describe("npm start and npm run start:prod on a production install", () => {
  beforeAll(async () => {
    // What an operator without Docker runs: the optional node@22 comes too (this machine's
    // system Node is 20), and npm scripts put it first on PATH.
    await run("npm ci --omit=dev --no-audit --no-fund");
  }, 240_000);

  for (const script of ["start", "start:prod"]) {
    it(`npm ${script === "start" ? "start" : "run start:prod"}: Node 22, the game is served; one SIGTERM to npm (PID 1 in a container) drains the server and leaves nothing running`, async () => {
      const npm = await startBuilt("npm", ["run", script], {}, SYSTEM_PATH);
      expect(npm.output()).toContain("Node v22");
      await playOnce(npm.port, `prod-${script.replace(":", "-")}`);
      // Only npm gets the signal, as a container runtime delivers it to PID 1.
      process.kill(npm.child.pid!, "SIGTERM");
      expect(await groupGone(npm.child.pid!, 20_000)).toBe(true);
      expect(npm.output()).toContain("SIGTERM: draining");
      expect(readdirSync(npm.dataDir).some((f) => f.startsWith(`world-prod-${script.replace(":", "-")}`))).toBe(true);
    }, 90_000);
  }

  it("an older Node is refused with one line naming it and the way to run Node 22", async () => {
    const system = execFileSync("sh", ["-c", "command -v node"], { env: { PATH: SYSTEM_PATH } }).toString().trim();
    const version = execFileSync(system, ["--version"]).toString().trim();
    if (Number(version.slice(1).split(".")[0]) >= 22) {
      // A machine whose system Node is new enough: check the message through the function.
      const { nodeVersionProblem } = await import("../src/ops/nodeVersion");
      expect(nodeVersionProblem("v20.1.0", "/usr/bin/node")).toMatch(/needs Node >= 22.*v20\.1\.0.*npm start/);
      return;
    }
    const refused = await execFileP(system, ["dist/server/index.js"], { cwd: app, env: { PATH: SYSTEM_PATH } }).catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect("code" in refused && refused.code).toBe(1);
    const lines = (refused as { stderr: string }).stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`this is Node ${version}`);
    expect(lines[0]).toContain("npm start");
  });
});
