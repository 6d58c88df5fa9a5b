import { basicAuth, defineRoom, logger } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import { playground } from "@colyseus/playground";
import config from "@colyseus/tools";
import { monitorCredentials } from "./src/monitorAuth";
import { MMORoom } from "./src/rooms/MMORoom";
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

export const monitorAuth = monitorCredentials();

export default config({
  rooms: {
    // One room per world: `joinOrCreate("mmo", { world: "forest" })`.
    mmo: defineRoom(MMORoom, { settings: resolveSettings(mmoSettings) }).filterBy(["world"]),
  },
  initializeExpress: (app) => {
    app.get("/healthz", (_req, res) => {
      res.json({ ok: true });
    });
    app.use("/monitor", monitor({ use: [basicAuth({ users: { [monitorAuth.user]: monitorAuth.password }, realm: "monitor" })] }));
    if (process.env.NODE_ENV !== "production") {
      app.use("/playground", playground());
    }
  },
  beforeListen: () => {
    if (monitorAuth.generated) {
      logger.info(`/monitor: user "${monitorAuth.user}", generated password "${monitorAuth.password}" (set MONITOR_PASSWORD to choose one)`);
    }
  },
});
