import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The architecture's arrows are lint rules (eslint.config.js). Each wrong arrow below is a
// one-line file linted as if it stood at `path`: `npm run lint` must refuse it.
const eslint = new ESLint();

async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: path });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax").map((m) => m.message);
}

const WRONG: Array<[string, string, string, RegExp]> = [
  ["game -> framework internals", "src/game/Probe.ts", 'import { World } from "../framework/World";', /public surface/],
  ["framework -> game", "src/framework/Probe.ts", 'import { ArenaRoom } from "../game/ArenaRoom";', /never imports a game/],
  ["framework -> bridge", "src/framework/Probe.ts", 'import { ProcessRoom } from "../bridge/ProcessRoom";', /never imports a game, the bridge/],
  ["client -> server-only code", "client/src/Probe.ts", 'import { MMORoom } from "../../src/framework/MMORoom";', /@shared alias/],
  ["client -> a server-only package", "client/src/Probe.ts", 'import { Room } from "@colyseus/core";', /browser/],
  ["aoi -> colyseus", "src/aoi/Probe.ts", 'import { Room } from "@colyseus/core";', /no Colyseus/],
  ["aoi -> the framework", "src/aoi/Probe.ts", 'import { World } from "../framework";', /only \.\.\/shared\/vector/],
  ["shared -> the framework", "src/shared/Probe.ts", 'import { MMORoom } from "../framework";', /only src\/shared/],
  ["shared -> node", "src/shared/Probe.ts", 'import { readFileSync } from "node:fs";', /no Node modules/],
  ["ops -> the framework", "src/ops/Probe.ts", 'import { MMORoom } from "../framework";', /never the other way/],
  ["bridge -> the framework", "src/bridge/Probe.ts", 'import { MMORoom } from "../framework";', /stands alone/],
  ["regions -> the room", "src/regions/Probe.ts", 'import { MMORoom } from "../framework/MMORoom";', /World only/],
  ["regions -> ops", "src/regions/Probe.ts", 'import { handoffs } from "../ops/metrics";', /driven by MMORoom/],
  ["ops -> regions", "src/ops/Probe.ts", 'import { Ghosts } from "../regions/Ghosts";', /never the other way/],
  ["schema internals outside the seam", "src/framework/Probe.ts", 'import { $changes } from "@colyseus/schema";', /one seam/],
  ["a private field outside the seam", "test/Probe.ts", "const s = (globalThis as any).room._serializer;", /private field/],
];

describe("architecture boundaries (eslint.config.js)", () => {
  for (const [arrow, path, code, message] of WRONG) {
    it(`refuses ${arrow}`, async () => {
      const found = await problems(path, code);
      expect(found.length, `${path}: ${code}`).toBeGreaterThan(0);
      expect(found.join("\n")).toMatch(message);
    });
  }

  it("accepts the arrows that point the right way", async () => {
    expect(await problems("src/game/Probe.ts", 'import { MMORoom } from "../framework";\nimport type { Vec3 } from "../shared/vector";')).toEqual([]);
    expect(await problems("client/src/Probe.ts", 'import { stepPosition } from "@shared/movement";\nimport Phaser from "phaser";')).toEqual([]);
    expect(await problems("src/aoi/Probe.ts", 'import type { Vec3 } from "../shared/vector";\nimport { SpatialGrid } from "./SpatialGrid";')).toEqual([]);
    expect(await problems("src/regions/Probe.ts", 'import type { World } from "../framework/World";\nimport { Player } from "../shared/schema";\nimport { RegionGrid } from "./RegionGrid";')).toEqual([]);
    expect(await problems("src/framework/serializer/colyseusInternals.ts", 'import { $changes } from "@colyseus/schema";')).toEqual([]);
  });
});
