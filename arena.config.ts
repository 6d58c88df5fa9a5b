import { basicAuth, defineRoom, logger } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import { playground } from "@colyseus/playground";
import config from "@colyseus/tools";
import express from "express";
import { fileURLToPath } from "node:url";
import { ArenaRoom, type ArenaRoomOptions } from "./src/game/ArenaRoom";
import { monitorCredentials } from "./src/monitorAuth";
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
};

/** The demo game (gems and wandering NPCs); GAME_GEMS and GAME_NPCS override the counts. */
export const gameSettings: ArenaRoomOptions["game"] = {
  gems: envInt("GAME_GEMS") ?? 300,
  npcs: envInt("GAME_NPCS") ?? 60,
};

export const monitorAuth = monitorCredentials();

/** The built browser client (`npm start` builds it when its sources are newer). */
export const clientDist = fileURLToPath(new URL("./client/dist", import.meta.url));

export default config({
  rooms: {
    // One room per world: `joinOrCreate("mmo", { world: "forest" })`.
    mmo: defineRoom(ArenaRoom, { settings: resolveSettings(mmoSettings), game: gameSettings }).filterBy(["world"]),
  },
  initializeExpress: (app) => {
    app.get("/healthz", (_req, res) => {
      res.json({ ok: true });
    });
    app.use("/monitor", monitor({ use: [basicAuth({ users: { [monitorAuth.user]: monitorAuth.password }, realm: "monitor" })] }));
    if (process.env.NODE_ENV !== "production") {
      app.use("/playground", playground());
    }
    app.use(express.static(clientDist));
  },
  beforeListen: () => {
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
