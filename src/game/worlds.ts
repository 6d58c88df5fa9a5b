import type { UnknownWorlds, WorldTable } from "../framework";

/**
 * The demo's worlds, each with its own settings on top of arena.config.ts's (and the MMO_*
 * variables'): whatever a row leaves out is the default. MMO_WORLDS_FILE (a JSON file of the
 * same shape) replaces this table; MMO_UNKNOWN_WORLDS replaces `unknownWorlds`.
 */
export const worldTable: WorldTable = {
  default: { title: "The Meadow" },
  // Small and crowded: a short view, a small map, few players.
  arena: {
    title: "The Arena (small)",
    settings: {
      aoi: { x: 320, y: 240, z: 0 },
      mapLimits: { higher: { x: 1600, y: 1200, z: 0 } },
      maxUsers: 20,
      userMaxLimboSeconds: 20,
    },
  },
  // Large and sparse: a far view, a big map, updated a little less often.
  frontier: {
    title: "The Frontier (large)",
    settings: {
      aoi: { x: 800, y: 600, z: 0 },
      mapLimits: { higher: { x: 20000, y: 20000, z: 0 } },
      maxUsers: 10000,
      proximityUpdateMillis: 400,
    },
  },
  // One seamless world over four region rooms (src/regions/): each region is a room of its
  // own, on whichever process matchmaking picks; players see across borders and are handed on.
  continent: {
    title: "The Continent (4 regions)",
    settings: {
      mapLimits: { higher: { x: 12800, y: 12800, z: 0 } },
      regionSize: { x: 6400, y: 6400 },
    },
  },
};

/** A world of any other name is played with the default settings ("refuse": joins fail with 404). */
export const unknownWorlds: UnknownWorlds = "default";
