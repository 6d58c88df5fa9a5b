import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ManagedProcess, freePort, startProcess, tsx } from "../scripts/lib";
import { until } from "./helpers/server";

// `npm run scalesocket`: ScaleSocket's command line on this project's Colyseus server, driven
// the way ScaleSocket's own browser clients talk: a plain WebSocket to ws://HOST/<room>,
// JSON text frames. Two servers: `--json cat` (ScaleSocket's chat example) and a bunny-like
// Python backend with the multiplayer example's flags.
// The system Python itself, not a version manager's shim (a shim adds variables of its own).
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
let chat: { proc: ManagedProcess; port: number };
let game: { proc: ManagedProcess; port: number };
const staticdir = mkdtempSync(join(tmpdir(), "mmo-scalesocket-static-"));
writeFileSync(join(staticdir, "index.html"), "<!doctype html><title>bunnies</title>");

async function scalesocket(args: string[], env: Record<string, string> = {}): Promise<{ proc: ManagedProcess; port: number }> {
  const port = await freePort();
  const proc = await startProcess(...tsx("src/bridge/scalesocket/main.ts", "--addr", `127.0.0.1:${port}`, ...args), { ready: "scalesocket: listening", readyMs: 30_000, env });
  return { proc, port };
}

beforeAll(async () => {
  chat = await scalesocket(["--json", "--cache", "all:2", "cat"]);
  game = await scalesocket(["--staticdir", staticdir, "--json", "--api", "--metrics", "--passenv", "PATH,COLOR", "--rooms", "meadow,mixed,env,a,b,c", "--maxrooms", "2", PYTHON, "--", "test/fixtures/bunny-like.py"], {
    COLOR: "green",
    IDENTITY_SECRET_PROBE: "must-not-reach-the-backend",
  });
}, 60_000);
afterAll(async () => {
  await Promise.all([chat?.proc.stop("SIGKILL"), game?.proc.stop("SIGKILL")]);
});

/** A plain WebSocket client that keeps every JSON frame it gets. */
async function plain(port: number, path: string): Promise<{ ws: WebSocket; got: Array<Record<string, unknown>>; send(m: unknown): void; close(): Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const got: Array<Record<string, unknown>> = [];
  ws.on("message", (data) => got.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    got,
    send: (m) => ws.send(JSON.stringify(m)),
    close: () => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : (ws.once("close", () => resolve()), ws.close()))),
  };
}

/** Waits until the game server's rooms have closed (a room closes when its last client goes). */
async function noRoomsLeft(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const rooms = (await (await fetch(`http://127.0.0.1:${game.port}/api/rooms/`)).json()) as unknown[];
    if (rooms.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("rooms did not close");
}

const upgradeStatus = (port: number, path: string) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("error", () => {});
  });

describe("scalesocket --json cat (the chat example)", () => {
  it("integer ids, Join/Leave, _from on every client message, broadcast to the room", async () => {
    const a = await plain(chat.port, "/lobby");
    const b = await plain(chat.port, "/lobby");
    await until(() => a.got.some((m) => m.t === "Join" && m._from === 2), "A sees B join (id 2)");
    a.send({ t: "msg", text: "hello" });
    await until(() => b.got.some((m) => m.t === "msg"), "B gets A's message");
    expect(b.got.find((m) => m.t === "msg")).toEqual({ t: "msg", text: "hello", _from: 1 });
    await b.close();
    await until(() => a.got.some((m) => m.t === "Leave" && m._from === 2), "A sees B leave");
    await a.close();
  });

  it("--cache all:2 replays the last two messages to a late joiner", async () => {
    const a = await plain(chat.port, "/cache");
    for (const text of ["one", "two", "three"]) a.send({ t: "msg", text });
    await until(() => a.got.filter((m) => m.t === "msg").length === 3, "three echoes");
    const late = await plain(chat.port, "/cache");
    await until(() => late.got.length >= 2, "the late joiner gets the cache");
    expect(late.got.slice(0, 2).map((m) => m.text ?? m.t)).toEqual(["two", "three"]);
    await Promise.all([a.close(), late.close()]);
  });
});

describe("scalesocket with the multiplayer example's flags (--staticdir --json --api --metrics)", () => {
  it("a private Welcome (_to) and a State broadcast; _meta is stored, not sent, and listed by /api/rooms/", async () => {
    const a = await plain(game.port, "/meadow");
    const b = await plain(game.port, "/meadow");
    await until(() => b.got.some((m) => m.t === "Welcome"), "B welcomed");
    expect(a.got.filter((m) => m.t === "Welcome")).toEqual([{ t: "Welcome", data: { id: 1 } }]);
    expect(b.got.filter((m) => m.t === "Welcome")).toEqual([{ t: "Welcome", data: { id: 2 } }]);
    a.send({ t: "Input", data: { x: 5, y: 6 } });
    await until(() => b.got.some((m) => m.t === "State" && (m.data as Record<string, { x: number }>)["1"]?.x === 5), "B sees A move");
    a.send({ t: "Meta" });
    let listed: Array<{ name: string; connections: number; metadata: { title?: string } }> = [];
    for (let i = 0; i < 40 && !listed.some((r) => r.metadata.title === "meadow"); i++) {
      listed = await (await fetch(`http://127.0.0.1:${game.port}/api/rooms/`)).json();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(listed).toContainEqual({ name: "meadow", connections: 2, metadata: { players: 2, title: "meadow" } });
    expect(a.got.some((m) => m._meta)).toBe(false);
    expect(await (await fetch(`http://127.0.0.1:${game.port}/api/meadow/connections`)).json()).toBe(2);
    expect(await (await fetch(`http://127.0.0.1:${game.port}/api/meadow/metadata`)).json()).toEqual({ players: 2, title: "meadow" });
    await Promise.all([a.close(), b.close()]);
  });

  it("--passenv: the backend sees PATH, COLOR and the CGI variables, nothing else", async () => {
    const a = await plain(game.port, "/env?color=red&n=2");
    a.send({ t: "Env" });
    await until(() => a.got.some((m) => m.t === "Env"), "the environment");
    const env = a.got.find((m) => m.t === "Env")!.env as Record<string, string>;
    expect(env.ROOM).toBe("env");
    expect(env.QUERY_STRING).toBe("color=red&n=2");
    expect(env.REMOTE_ADDR).toMatch(/127\.0\.0\.1/);
    expect(env.COLOR).toBe("green");
    expect(env.IDENTITY_SECRET_PROBE).toBeUndefined();
    // Nothing of the server's environment beyond --passenv (a shell in between, such as a
    // pyenv shim, sets PWD, SHLVL and _ of its own).
    for (const key of Object.keys(process.env)) {
      if (!["PATH", "COLOR", "PWD", "OLDPWD", "SHLVL", "_"].includes(key)) expect(env[key], key).toBeUndefined();
    }
    expect(env.HOME).toBeUndefined();
    await a.close();
  });

  it("--rooms and --maxrooms refuse the upgrade; /api, /metrics, /health refuse WebSockets; a GET on a room path is a 404", async () => {
    await noRoomsLeft();
    expect(await upgradeStatus(game.port, "/notlisted")).toBe(404);
    const a = await plain(game.port, "/a");
    const b = await plain(game.port, "/b");
    expect(await upgradeStatus(game.port, "/c")).toBe(503); // --maxrooms 2
    await Promise.all([a.close(), b.close()]);
    await noRoomsLeft();
    for (const path of ["/api/rooms/", "/metrics", "/health"]) expect(await upgradeStatus(game.port, path)).toBe(400);
    expect((await fetch(`http://127.0.0.1:${game.port}/meadow`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${game.port}/health`)).json()).toEqual({ status: "ok" });
    const metrics = await (await fetch(`http://127.0.0.1:${game.port}/metrics`)).text();
    expect(metrics.trimEnd().endsWith("# EOF")).toBe(true);
    expect(metrics).toMatch(/scalesocket_websocket_connections/);
    expect(await (await fetch(`http://127.0.0.1:${game.port}/`)).text()).toContain("<title>bunnies</title>");
  });

  it("one room, two kinds of client: a plain WebSocket and @colyseus/sdk play together", async () => {
    const ws = await plain(game.port, "/mixed");
    const sdk = await new Client(`http://127.0.0.1:${game.port}`).joinOrCreate("process", { room: "mixed" });
    const sdkGot: Array<{ type: string; m: Record<string, unknown> }> = [];
    sdk.onMessage("*", (type, m) => sdkGot.push({ type: String(type), m: m as Record<string, unknown> }));
    await until(() => sdkGot.some((x) => x.type === "Welcome"), "the SDK client is welcomed");
    expect(sdkGot.find((x) => x.type === "Welcome")!.m).toEqual({ t: "Welcome", data: { id: 2 } });
    sdk.send("Input", { x: 9, y: 9 });
    await until(() => ws.got.some((m) => m.t === "State" && (m.data as Record<string, { x: number }>)["2"]?.x === 9), "the plain client sees the SDK client move");
    ws.send({ t: "Input", data: { x: 3, y: 3 } });
    await until(() => sdkGot.some((x) => x.type === "State" && (x.m.data as Record<string, { x: number }>)["1"]?.x === 3), "the SDK client sees the plain one move");
    await sdk.leave();
    await ws.close();
  });
});

describe("scalesocket --null --log json --oneshot", () => {
  it("NUL-terminated output items (a newline inside one is kept), JSON log lines, and one room served", async () => {
    const one = await scalesocket(["--null", "--log", "json", "--oneshot", "--json", process.execPath, "--", "test/fixtures/nul-backend.mjs"]);
    try {
      const a = await plain(one.port, "/solo");
      await until(() => a.got.some((m) => m.t === "hi"), "the NUL-terminated item arrives");
      expect(a.got.find((m) => m.t === "hi")).toEqual({ t: "hi", text: "one\ntwo" });
      await a.close();
      // --oneshot: the room closed, so does the server (bounded, so `finally` always runs).
      const exit = await Promise.race([one.proc.exited, new Promise((r) => setTimeout(() => r("still running"), 15_000))]);
      expect(exit).toBe(0);
      const logLines = one.proc.output().split("\n").filter((l) => l.startsWith("{"));
      expect(logLines.length).toBeGreaterThan(0);
      for (const l of logLines) expect(JSON.parse(l)).toMatchObject({ level: expect.any(String), message: expect.any(String) });
    } finally {
      await one.proc.stop("SIGKILL");
    }
  }, 30_000);
});

describe("scalesocket admission", () => {
  it("a malformed upgrade request line (`GET //`) is refused, and the server stays up", async () => {
    const { connect } = await import("node:net");
    for (const target of ["//", "//[", "http://"]) {
      const answer = await new Promise<string>((resolve) => {
        const s = connect(game.port, "127.0.0.1", () =>
          s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
        );
        let got = "";
        s.on("data", (d) => (got += d.toString()));
        s.on("close", () => resolve(got));
        s.on("error", () => resolve(got));
        setTimeout(() => s.destroy(), 2000);
      });
      expect(answer.split("\r\n")[0], target).toMatch(/^HTTP\/1\.1 (400|404)/);
    }
    expect(await (await fetch(`http://127.0.0.1:${game.port}/health`)).json()).toEqual({ status: "ok" });
  });

  it("plain WebSocket joins count against the per-IP matchmaking budget (429)", async () => {
    const limited = await scalesocket(["--json", "cat"], { MMO_MATCHMAKE_PER_MINUTE: "3" });
    try {
      const open = [await plain(limited.port, "/x"), await plain(limited.port, "/x"), await plain(limited.port, "/y")];
      expect(await upgradeStatus(limited.port, "/x")).toBe(429);
      await Promise.all(open.map((c) => c.close()));
    } finally {
      await limited.proc.stop("SIGKILL");
    }
  }, 30_000);
});

