import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:http";
import { Client, type Room } from "@colyseus/sdk";
import { type ServerProcess, startServer } from "../../scripts/lib";
import type { MMOState } from "../../src/shared/schema";
import { joinWorld } from "../../src/shared/sdk";
import { BRIDGE_SCENARIOS } from "./bridge";
import type { HonestPlayer } from "./honest";
import { PLAYER_SCENARIOS } from "./players";
import { OPS_SCENARIOS } from "./ops";
import { readVar } from "../../src/shared/vars";

/** What one scenario did: requests sent, how many the server refused, and whether data was lost. */
export interface Outcome {
  sent: number;
  refused: number;
  /** Undefined where the scenario has no data to lose. */
  lost?: boolean;
  /** For scenarios that stop the server on purpose: whether it stopped the way it should. */
  up?: boolean;
  /** An honest echo's p99 (ms) the scenario measured itself (another server's); else the harness's own. */
  echoP99Ms?: number;
  note: string;
}

export interface Scenario {
  name: string;
  /** Extra server environment for this scenario. */
  env?: Record<string, string>;
  run(ctx: { server: ServerProcess; honest: HonestPlayer; quick: boolean }): Promise<Outcome>;
}

const post = (endpoint: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${endpoint}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** Joins with an identity and waits for the token a first join is given. */
async function guest(endpoint: string, world: string, name: string, token?: string): Promise<{ room: Room<MMOState>; token: string }> {
  const room = await joinWorld(new Client(endpoint), { world, name, token });
  if (token) return { room, token };
  return { room, token: await new Promise<string>((resolve) => room.onMessage("identity", (m: { token: string }) => resolve(m.token))) };
}

export const SCENARIOS: Scenario[] = [
  {
    name: "room-creation flood (distinct worlds, one client)",
    async run({ server, quick }) {
      const n = quick ? 80 : 300;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const res = await post(server.endpoint, "/matchmake/joinOrCreate/mmo", { world: `flood-${i}` });
        if (res.status !== 200) refused++;
        await res.arrayBuffer();
      }
      const files = readdirSync(server.dataDir).filter((f) => f.startsWith("world-flood-")).length;
      return { sent: n, refused, lost: false, note: `world files written: ${files}` };
    },
  },
  {
    name: "process-room flood (one backend each)",
    async run({ server, quick }) {
      const n = quick ? 10 : 30;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const res = await post(server.endpoint, "/matchmake/joinOrCreate/process", { room: `pflood-${i}` });
        if (res.status !== 200) refused++;
        await res.arrayBuffer();
      }
      return { sent: n, refused, note: `backends started: at most ${n - refused}` };
    },
  },
  {
    name: "100 MB request bodies",
    async run({ server, quick }) {
      const n = quick ? 2 : 5;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const status = await new Promise<number>((resolve) => {
          const req = request(`${server.endpoint}/matchmake/joinOrCreate/mmo`, {
            method: "POST",
            headers: { "content-type": "application/json", "content-length": String(100 * 1024 * 1024) },
          });
          req.on("response", (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", () => resolve(0));
          req.write(Buffer.alloc(64 * 1024, 32));
        });
        if (status === 413) refused++;
      }
      return { sent: n, refused, note: "refused on the declared length, before reading" };
    },
  },
  {
    name: "split brain: create a live world again",
    async run({ server }) {
      const res = await post(server.endpoint, "/matchmake/create/mmo", { world: "attack" });
      await res.arrayBuffer();
      return { sent: 1, refused: res.status === 409 ? 1 : 0, lost: res.status === 200, note: `answer ${res.status}` };
    },
  },
  {
    name: "leave and rejoin within milliseconds (10 times)",
    async run({ server }) {
      let lost = 0;
      const first = await guest(server.endpoint, "rejoin", "Rita");
      const { token } = first;
      let { room } = first;
      room.send("position", { x: 100, y: 100 });
      for (let i = 0; i < 10; i++) {
        room.send("vars", { round: String(i) });
        await new Promise((r) => setTimeout(r, 60));
        await room.leave();
        ({ room } = await guest(server.endpoint, "rejoin", "Rita", token));
        // Back out of limbo where she was: her own player (and its variables) reaches her then.
        room.send("spawn");
        const deadline = Date.now() + 3000;
        while (!room.state.players?.get(room.sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (readVar(room.state.players?.get(room.sessionId)?.vars, "round") !== String(i)) lost++;
      }
      await room.leave();
      return { sent: 20, refused: 0, lost: lost > 0, note: `${lost} of 10 rejoins lost variables` };
    },
  },
  {
    name: "fresh guest identities (saved-player bloat)",
    async run({ server, quick }) {
      const n = quick ? 20 : 50;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        try {
          const g = await guest(server.endpoint, "attack", `bot${i}`);
          g.room.send("position", { x: 200 + i, y: 200 });
          await g.room.leave();
        } catch {
          refused++;
        }
      }
      // The world's next snapshot (every 5 s) says whom it remembers.
      await new Promise((r) => setTimeout(r, 5500));
      const saved = JSON.parse(readFileSync(join(server.dataDir, "world-attack.json"), "utf8")) as { players: object };
      const remembered = Object.keys(saved.players).length;
      return { sent: n, refused, lost: false, note: `players remembered after ${n} fresh guests: ${remembered}` };
    },
  },
  {
    name: "impersonation (look-alike names of a player)",
    async run({ server }) {
      const names = ["Аda", "Ada\u200b", "\u202eadA", "Ada\u0085", "ADA"];
      const rooms: Room<MMOState>[] = [];
      let refused = 0;
      rooms.push((await guest(server.endpoint, "names", "Ada")).room);
      for (const name of names) {
        const { room } = await guest(server.endpoint, "names", name);
        rooms.push(room);
        await new Promise((r) => setTimeout(r, 100));
        room.send("position", { x: 10, y: 10 });
        await new Promise((r) => setTimeout(r, 100));
        const shown = room.state.players?.get(room.sessionId)?.name ?? "";
        if (/\(\d+\)$/.test(shown)) refused++;
      }
      await Promise.all(rooms.map((r) => r.leave().catch(() => {})));
      return { sent: names.length, refused, note: "refused = renamed `name (n)`" };
    },
  },
  {
    name: "limbo squatting (connections that never play)",
    env: { MMO_MAX_USERS: "20" },
    async run({ server }) {
      const squatters: Room<MMOState>[] = [];
      let closed = 0;
      for (let i = 0; i < 24; i++) {
        const s = await joinWorld(new Client(server.endpoint), { world: "squat" }).catch(() => undefined);
        if (!s) continue;
        s.onLeave((code) => code === 4100 && closed++);
        squatters.push(s);
      }
      let admitted = 0;
      for (let i = 0; i < 3; i++) {
        const p = await joinWorld(new Client(server.endpoint), { world: "squat", name: `real${i}` }).catch(() => undefined);
        if (p) {
          admitted++;
          p.send("position", { x: 10 * i, y: 10 });
          squatters.push(p);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all(squatters.map((r) => (r.connection.isOpen ? r.leave().catch(() => {}) : undefined)));
      return { sent: 27, refused: closed, lost: admitted < 3, note: `${admitted} of 3 real players got in; refused = squatters closed (4100)` };
    },
  },
  {
    name: "refused-join log flood",
    async run({ server, quick }) {
      const n = quick ? 40 : 200;
      const before = server.output().length;
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const res = await post(server.endpoint, "/matchmake/joinOrCreate/mmo", { world: "bad world!", token: "x".repeat(150) });
        if (res.status !== 200) refused++;
        await res.arrayBuffer();
      }
      const logged = server.output().length - before;
      return { sent: n, refused, note: `${logged} log bytes for ${n} refusals` };
    },
  },
  {
    name: "cross-origin: CORS and the monitor",
    async run({ server }) {
      const pre = await fetch(`${server.endpoint}/matchmake/joinOrCreate/mmo`, { method: "OPTIONS", headers: { origin: "https://evil.example" } });
      const mon = await fetch(`${server.endpoint}/monitor/api/room/call?roomId=x&method=persistence`, { headers: { "sec-fetch-site": "cross-site" } });
      const play = await fetch(`${server.endpoint}/playground`);
      const refused = Number(pre.headers.get("access-control-allow-origin") === null) + Number(mon.status === 403) + Number(play.status === 404);
      return { sent: 3, refused, note: "no CORS for a foreign origin; monitor 403 cross-site; no playground" };
    },
  },
  {
    name: "reconnect over a half-open socket",
    async run({ server }) {
      // A relay whose client side is cut while the server keeps its socket (half-open).
      const downs: Socket[] = [];
      const relay = createServer((down) => {
        const up = connect(server.port, "127.0.0.1");
        down.pipe(up, { end: false });
        up.pipe(down, { end: false });
        down.on("error", () => {});
        up.on("error", () => {});
        downs.push(down, up);
      });
      await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
      const { port } = relay.address() as { port: number };
      const { room } = await guest(`http://127.0.0.1:${port}`, "stale", "Hal");
      room.reconnection.enabled = false;
      room.send("position", { x: 100, y: 100 });
      room.send("vars", { hat: "green" });
      await new Promise((r) => setTimeout(r, 300));
      const { reconnectionToken, sessionId } = room;
      for (let i = 0; i < downs.length; i += 2) downs[i].destroy();
      let resumed = false;
      try {
        const again = await new Client(server.endpoint).reconnect<MMOState>(reconnectionToken);
        await new Promise((r) => setTimeout(r, 300));
        resumed = again.sessionId === sessionId && readVar(again.state.players?.get(sessionId)?.vars, "hat") === "green";
        await again.leave();
      } catch {
        resumed = false;
      }
      for (const s of downs) s.destroy();
      relay.close();
      return { sent: 1, refused: 0, lost: !resumed, note: resumed ? "the player was resumed" : "the player was lost" };
    },
  },
  {
    name: "a truncated world file",
    async run({ server }) {
      // Two saves of one world (a previous generation exists), then the current file is cut.
      let token: string | undefined;
      for (const hat of ["red", "blue"]) {
        const g = await guest(server.endpoint, "gen", "Gina", token);
        token = g.token;
        const { room } = g;
        room.send("position", { x: 50, y: 50 });
        room.send("vars", { hat });
        await new Promise((r) => setTimeout(r, 200));
        await room.leave();
        await new Promise((r) => setTimeout(r, 300));
      }
      const file = join(server.dataDir, "world-gen.json");
      writeFileSync(file, readFileSync(file, "utf8").slice(0, 40));
      const back = await joinWorld(new Client(server.endpoint), { world: "gen", name: "Gina", token });
      back.send("spawn");
      await new Promise((r) => setTimeout(r, 400));
      const movedAside = readdirSync(server.dataDir).some((f) => f.startsWith("world-gen.corrupt-"));
      const hat = readVar(back.state.players?.get(back.sessionId)?.vars, "hat");
      await back.leave();
      // The previous generation holds her first visit (hat red); a fresh world would hold nothing.
      return { sent: 1, refused: movedAside ? 1 : 0, lost: hat === undefined, note: `moved aside: ${movedAside}; the previous generation was loaded (her hat: ${hat ?? "gone"})` };
    },
  },
  {
    name: "an empty identity key file (a full disk at first start)",
    async run() {
      const dir = mkdtempSync(join(tmpdir(), "mmo-attack-key-"));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "identity.key"), "");
      let started = false;
      let said = "";
      try {
        const s = await startServer({ env: { MMO_DATA_DIR: dir, IDENTITY_SECRET: "" }, readyMs: 20_000 });
        started = true;
        await s.stop("SIGKILL");
      } catch (e) {
        said = /identity\.key[^\n]*/.exec(String(e))?.[0] ?? String(e).slice(0, 80);
      }
      return { sent: 1, refused: started ? 0 : 1, note: started ? "started with an empty key!" : `refused to start: ${said.slice(0, 90)}` };
    },
  },
  {
    name: "SIGTERM twice during a drain",
    env: { MMO_DRAIN_SECONDS: "2" },
    async run({ server, honest }) {
      const codes: number[] = [];
      let notice = false;
      honest.room.onMessage("server_shutdown", () => (notice = true));
      honest.room.onLeave((code) => codes.push(code));
      server.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 60));
      server.child.kill("SIGTERM");
      await server.exited;
      const drained = notice && codes[0] === 4001;
      return { sent: 2, refused: 1, up: drained, lost: !drained, note: drained ? "the second SIGTERM was ignored; drained, closed 4001" : `closes: ${codes.join(",")}` };
    },
  },
  ...BRIDGE_SCENARIOS,
  ...PLAYER_SCENARIOS,
  ...OPS_SCENARIOS,
];
