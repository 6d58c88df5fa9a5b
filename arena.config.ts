import { basicAuth, defineRoom, logger, matchMaker, type ServerOptions } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { type MonitorOptions, monitor } from "@colyseus/monitor";
import { playground } from "@colyseus/playground";
import config from "@colyseus/tools";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { join } from "node:path";
import { ProcessRoom } from "./src/bridge/ProcessRoom";
import { JSON_JOINMSG, JSON_LEAVEMSG } from "./src/bridge/settings";
import { FileWorldStore, IdentitySigner, type MMOSettingsInput, RedisWorldStore, WorldsLobby, identitySecret, resolveSettings, worldsFromConfig } from "./src/framework";
import { ArenaRoom, type ArenaRoomOptions } from "./src/game/ArenaRoom";
import { unknownWorlds, worldTable } from "./src/game/worlds";
import { installAdmission, installCors } from "./src/ops/admission";
import { drain } from "./src/ops/drain";
import { redisReachable } from "./src/ops/health";
import { roomBudget } from "./src/ops/roomBudget";
import { roomsPerAddress } from "./src/ops/roomsPerAddress";
import { type ServerEnv, readServerEnv } from "./src/ops/env";
import { registry } from "./src/ops/metrics";
import { requireMetricsPolicy, metricsAuthorized } from "./src/ops/metricsAccess";
import { monitorCredentials, monitorLoginGate } from "./src/ops/monitorAuth";
import { projectRoot } from "./src/ops/paths";
import { serveClient } from "./src/ops/staticClient";

/** Every environment variable the server reads, parsed once (src/ops/env.ts). */
export const env: ServerEnv = readServerEnv();
// In production /metrics needs METRICS_TOKEN, or the operator's METRICS_PUBLIC=1 (src/ops/metricsAccess.ts).
requireMetricsPolicy(env);

/**
 * This game's settings for the MMO room, on top of the framework's defaults
 * (src/framework/settings.ts). Every setting can also be overridden by an MMO_*
 * environment variable (see the README's configuration table).
 */
export const mmoSettings: MMOSettingsInput = {
  // The browser client moves with keys (server-side); `position` after the entry point is
  // limited to a little over that speed, so teleport and speed hacks are refused.
  maxSpeed: 300,
  // Under a test runner (NODE_ENV=test) shutdown() does not wait for a drain.
  ...(env.testing && { drainSeconds: 0 }),
};

/**
 * Worlds with their own settings (src/game/worlds.ts, or MMO_WORLDS_FILE), each on top of
 * mmoSettings; a bad table stops the server here. Other world names get the defaults, or are
 * refused (MMO_UNKNOWN_WORLDS=refuse). `worlds.define(name, { title, settings })` adds one at
 * runtime, in the presence (Redis in a cluster).
 */
export const worlds = worldsFromConfig(resolveSettings(mmoSettings), { table: worldTable, unknownWorlds });

/**
 * One process or many: with REDIS_URL, presence and matchmaking live in Redis, so several
 * processes (on one or more machines) serve one set of worlds. PUBLIC_ADDRESS is how clients
 * reach this very process (host:port, or host/path behind a proxy); required with Redis.
 */
export function serverOptions(e: ServerEnv = env): ServerOptions {
  if (!e.redisUrl) return {};
  return { presence: new RedisPresence(e.redisUrl), driver: new RedisDriver(e.redisUrl), publicAddress: e.publicAddress };
}

/** The demo game (gems and wandering NPCs); GAME_GEMS and GAME_NPCS override the counts. */
export const gameSettings: ArenaRoomOptions["game"] = { gems: env.gameGems ?? 300, npcs: env.gameNpcs ?? 60 };

export const monitorAuth = monitorCredentials(env.monitorUser, env.monitorPassword);

/**
 * The monitor's room list: each world by name (and region, for a world split into regions) with its users, users in limbo and maxUsers
 * (MMORoom's listing metadata; maxClients is not the MMO room's limit), and in a cluster
 * the process that hosts it.
 */
export const MONITOR_COLUMNS: MonitorOptions["columns"] = [
  "roomId",
  "name",
  { metadata: "world" },
  { metadata: "region" },
  { metadata: "title" },
  "clients",
  { metadata: "users" },
  { metadata: "limbo" },
  { metadata: "maxUsers" },
  "locked",
  "elapsedTime",
  ...(env.redisUrl ? (["publicAddress"] as const) : []),
];

// Caps on live rooms per process (all types, and per type): see src/ops/roomBudget.ts.
roomBudget.configure(env.http);
// Live rooms one client address created on this process (all types): see src/ops/roomsPerAddress.ts.
roomsPerAddress.configure(env.http.roomsPerAddress);

/**
 * Worlds outlive rooms and processes: snapshots every few seconds and on drain/dispose, in
 * Redis when REDIS_URL is set, otherwise in files under MMO_DATA_DIR (default ./data).
 * Guest identities are signed with IDENTITY_SECRET (or a key kept in the data directory).
 */
export const persistence = {
  store: env.redisUrl ? new RedisWorldStore(env.redisUrl) : new FileWorldStore(env.dataDir),
  identity: new IdentitySigner(identitySecret(env.dataDir, env.identitySecret)),
  snapshotSeconds: env.snapshotSeconds,
};

/** The built browser client (`npm run build`; `npm start` builds it when its sources are newer). */
export const clientDist = join(projectRoot(), "client/dist");

export default config({
  options: serverOptions(),
  // Strangers' requests pass admission (body size, matchmaking rate, same-origin monitor)
  // before Colyseus or Express sees them; CORS answers only allowed origins.
  initializeTransport: (options) => {
    installAdmission(options.server, env.http);
    installCors(matchMaker.controller, env.http.corsOrigins, env.http.trustProxy);
    return new WebSocketTransport(options);
  },
  rooms: {
    // One room per world: `joinOrCreate("mmo", { world: "forest" })`.
    // Realtime listing: the lobby hears of every world's rooms and their counts as they change.
    mmo: defineRoom(ArenaRoom, { worlds, game: gameSettings, persistence }).filterBy(["world", "region"]).enableRealtimeListing(),
    // Colyseus's LobbyRoom: the live worlds with their counts, and the declared ones (`worlds`).
    lobby: defineRoom(WorldsLobby, { worlds }),
    // Game logic in any language: one backend process per room, JSON lines on stdin/stdout
    // (ScaleSocket style). `joinOrCreate("process", { room: "meadow" })`; page: /bunny.html.
    // ScaleSocket's --json framing: Join/Leave with integer `_from` ids.
    process: defineRoom(ProcessRoom, { process: { command: env.processCommand, maxRestarts: 3, joinmsg: JSON_JOINMSG, leavemsg: JSON_LEAVEMSG } }).filterBy(["room"]),
  },
  initializeExpress: (app) => {
    app.get("/healthz", async (_req, res) => {
      // 503 while draining, and while the configured Redis does not answer.
      const redis = env.redisUrl ? await redisReachable(matchMaker.presence) : true;
      const ok = !drain.active && redis;
      res.status(ok ? 200 : 503).json({ ok, draining: drain.active, redis });
    });
    app.get("/metrics", async (req, res) => {
      if (!metricsAuthorized(req.headers.authorization, env.metricsToken)) {
        res.status(401).set("WWW-Authenticate", "Bearer").json({ error: "a bearer token is required (METRICS_TOKEN)" });
        return;
      }
      res.type(registry.contentType).send(await registry.metrics());
    });
    // Wrong logins are limited per client address (429 beyond MMO_MONITOR_FAILS_PER_15MIN) before basicAuth checks them.
    app.use("/monitor", monitorLoginGate(monitorAuth, { failsPer15Min: env.monitorFailsPer15Min, trustProxy: env.http.trustProxy }));
    app.use("/monitor", monitor({ columns: MONITOR_COLUMNS, use: [basicAuth({ users: { [monitorAuth.user]: monitorAuth.password }, realm: "monitor" })] }));
    // Lists every room and starts CPU profiles for anyone: only when asked for.
    if (env.playground) app.use("/playground", playground());
    serveClient(app, clientDist);
  },
  beforeListen: () => {
    registry.setDefaultLabels({ process: `${matchMaker.processId}@${env.publicAddress ?? `localhost:${env.port}`}` });
    if (monitorAuth.generated && !env.production) {
      logger.info(`/monitor: user "${monitorAuth.user}", generated password "${monitorAuth.password}" (set MONITOR_PASSWORD to choose one)`);
    } else if (monitorAuth.generated) {
      logger.info("/monitor is locked: set MONITOR_PASSWORD to use it");
    }
  },
});
