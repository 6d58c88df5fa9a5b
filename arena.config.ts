import { basicAuth, defineRoom, logger, matchMaker, type ServerOptions } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { monitor } from "@colyseus/monitor";
import { playground } from "@colyseus/playground";
import config from "@colyseus/tools";
import express from "express";
import { fileURLToPath } from "node:url";
import { ArenaRoom, type ArenaRoomOptions } from "./src/game/ArenaRoom";
import { drain } from "./src/drain";
import { FileWorldStore } from "./src/persistence/FileWorldStore";
import { IdentitySigner, identitySecret } from "./src/persistence/identity";
import { RedisWorldStore } from "./src/persistence/RedisWorldStore";
import { registry } from "./src/metrics";
import { monitorCredentials } from "./src/monitorAuth";
import { ProcessRoom } from "./src/rooms/ProcessRoom";
import { type MMOSettingsInput, resolveSettings } from "./src/rooms/settings";

/**
 * The MMO room's settings. Every one can also be overridden by an MMO_* environment
 * variable (see the README's configuration table).
 */
export const mmoSettings: MMOSettingsInput = {
  aoi: { x: 560, y: 400, z: 0 },
  aoiLeaveMargin: 32,
  mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 6400, y: 6400, z: 0 } },
  userMaxLimboSeconds: 50,
  proximityUpdateMillis: 250,
  maxUsers: 5000,
  patchRate: 50,
  maxMessagesPerSecond: 60,
  speed: 240,
  reconnectSeconds: 20,
  drainSeconds: 10,
  // The browser client moves with keys (server-side); `position` after the entry point is
  // limited to a little over that speed, so teleport and speed hacks are refused.
  maxSpeed: 300,
};

/**
 * One process or many: with REDIS_URL, presence and matchmaking live in Redis, so several
 * processes (on one or more machines) serve one set of worlds. PUBLIC_ADDRESS is how clients
 * reach this very process (host:port, or host/path behind a proxy); required with Redis.
 */
export function serverOptions(env: NodeJS.ProcessEnv = process.env): ServerOptions {
  if (!env.REDIS_URL) return {};
  if (!env.PUBLIC_ADDRESS) throw new Error("REDIS_URL is set but PUBLIC_ADDRESS is not: each process needs its own public address");
  return {
    presence: new RedisPresence(env.REDIS_URL),
    driver: new RedisDriver(env.REDIS_URL),
    publicAddress: env.PUBLIC_ADDRESS,
  };
}

/** The demo game (gems and wandering NPCs); GAME_GEMS and GAME_NPCS override the counts. */
export const gameSettings: ArenaRoomOptions["game"] = {
  gems: envInt("GAME_GEMS") ?? 300,
  npcs: envInt("GAME_NPCS") ?? 60,
};

export const monitorAuth = monitorCredentials();

/**
 * Worlds outlive rooms and processes: snapshots every few seconds and on drain/dispose, in
 * Redis when REDIS_URL is set, otherwise in files under MMO_DATA_DIR (default ./data).
 * Guest identities are signed with IDENTITY_SECRET (or a key kept in the data directory).
 */
const dataDir = process.env.MMO_DATA_DIR || "data";
export const persistence = {
  store: process.env.REDIS_URL ? new RedisWorldStore(process.env.REDIS_URL) : new FileWorldStore(dataDir),
  identity: new IdentitySigner(identitySecret(dataDir)),
  snapshotSeconds: Number(process.env.MMO_SNAPSHOT_SECONDS || 5),
};

/** The built browser client (`npm start` builds it when its sources are newer). */
export const clientDist = fileURLToPath(new URL("./client/dist", import.meta.url));

export default config({
  options: serverOptions(),
  rooms: {
    // One room per world: `joinOrCreate("mmo", { world: "forest" })`.
    mmo: defineRoom(ArenaRoom, { settings: resolveSettings(mmoSettings), game: gameSettings, persistence }).filterBy(["world"]),
    // Game logic in any language: one backend process per room, JSON lines on stdin/stdout
    // (ScaleSocket style). `joinOrCreate("process", { room: "meadow" })`; page: /bunny.html.
    process: defineRoom(ProcessRoom, {
      process: { command: (process.env.PROCESS_COMMAND ?? "python3 examples/bunny/server.py").split(" "), maxRestarts: 3 },
    }).filterBy(["room"]),
  },
  initializeExpress: (app) => {
    app.get("/healthz", (_req, res) => {
      res.status(drain.active ? 503 : 200).json({ ok: !drain.active, draining: drain.active });
    });
    app.get("/metrics", async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
    app.use("/monitor", monitor({ use: [basicAuth({ users: { [monitorAuth.user]: monitorAuth.password }, realm: "monitor" })] }));
    if (process.env.NODE_ENV !== "production") {
      app.use("/playground", playground());
    }
    app.use(express.static(clientDist));
  },
  beforeListen: () => {
    registry.setDefaultLabels({ process: `${matchMaker.processId}@${process.env.PUBLIC_ADDRESS ?? `localhost:${process.env.PORT ?? 2567}`}` });
    if (monitorAuth.generated) {
      logger.info(`/monitor: user "${monitorAuth.user}", generated password "${monitorAuth.password}" (set MONITOR_PASSWORD to choose one)`);
    }
  },
});

function envInt(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got "${value}"`);
  return n;
}
