import { readFileSync } from "node:fs";
import { SchemaSerializer, matchMaker } from "@colyseus/core";
import { describe, expect, it } from "vitest";
import { type ColyseusInternals, VERIFIED_VERSIONS, colyseusInternals, installedVersions } from "../src/framework/serializer/colyseusInternals";
import { FanOutSerializer } from "../src/framework/serializer/FanOutSerializer";
import { checkFanOut, chooseSerializer } from "../src/framework/serializer/selfCheck";
import { MMOState } from "../src/shared/schema";
import { bootMMO, placeAt, roomOf, until } from "./helpers/server";

// FanOutSerializer reads undocumented internals of @colyseus/core and @colyseus/schema, all
// through src/framework/serializer/colyseusInternals.ts. These tests fail loudly when the
// installed Colyseus is not the one that seam was verified against, and prove that a seam
// that no longer matches the libraries degrades to the stock serializer.

describe("the Colyseus internals seam", () => {
  it("runs on exactly the Colyseus versions it was verified against", () => {
    const installed = installedVersions();
    for (const [name, verified] of Object.entries(VERIFIED_VERSIONS)) {
      expect(
        installed[name as keyof typeof VERIFIED_VERSIONS],
        `${name} is ${installed[name as keyof typeof VERIFIED_VERSIONS]} but src/framework/serializer/colyseusInternals.ts was verified against ${verified}: ` +
          "re-verify the seam (npm test, npm run bench -- --quick) and update VERIFIED_VERSIONS and package.json together",
      ).toBe(verified);
    }
  });

  it("package.json pins those exact versions (no ^ or ~ range)", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { dependencies: Record<string, string> };
    for (const [name, verified] of Object.entries(VERIFIED_VERSIONS)) {
      expect(pkg.dependencies[name], `package.json must pin ${name} to ${verified}`).toBe(verified);
    }
  });

  it("the self-check passes on the installed Colyseus, so rooms use FanOutSerializer", () => {
    expect(checkFanOut()).toEqual({ ok: true });
    const log: string[] = [];
    const stock = new SchemaSerializer<MMOState>();
    expect(chooseSerializer("fanout", stock, colyseusInternals, (l) => log.push(l))).toBeInstanceOf(FanOutSerializer);
    expect(log).toEqual([]);
  });

  it("the `stock` setting keeps Colyseus's own serializer", () => {
    const stock = new SchemaSerializer<MMOState>();
    expect(chooseSerializer("stock", stock)).toBe(stock);
  });

  // What a schema update could do: a field the seam reads moves (here the visibility bitmap
  // `ChangeTree.visibleViews` reads as absent, as a renamed or re-packed field would), or an
  // internal it calls is gone.
  const moved: ColyseusInternals = { ...colyseusInternals, viewBits: () => undefined };
  const gone: ColyseusInternals = {
    ...colyseusInternals,
    viewBits: () => {
      throw new TypeError("Cannot read properties of undefined (reading 'visibleViews')");
    },
  };

  for (const [what, broken] of [
    ["a field that moved", moved],
    ["an internal that is gone", gone],
  ] as const) {
    it(`a seam fed ${what} fails the self-check, logs one line naming the versions, and the room gets the stock serializer`, () => {
      const verdict = checkFanOut(broken);
      expect(verdict.ok).toBe(false);
      const log: string[] = [];
      const stock = new SchemaSerializer<MMOState>();
      const chosen = chooseSerializer("fanout", stock, broken, (l) => log.push(l));
      expect(chosen).toBe(stock);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(/^FanOutSerializer self-check failed \(.+\); using the stock serializer\. Installed: @colyseus\/core@0\.18\.\d+, @colyseus\/schema@5\.\d+\.\d+, @colyseus\/sdk@\S+; verified: @colyseus\/core@0\.18\.17/);
      // Checked once per process: a second room does not log again.
      expect(chooseSerializer("fanout", new SchemaSerializer<MMOState>(), broken, (l) => log.push(l))).not.toBeInstanceOf(FanOutSerializer);
      expect(log).toHaveLength(1);
    });
  }
});

describe("the serializer setting", () => {
  for (const choice of ["fanout", "stock"] as const) {
    it(`serializer: "${choice}" gives a room that serializer, and two players see each other`, async () => {
      const colyseus = await bootMMO({ serializer: choice, aoi: { x: 100, y: 100, z: 0 }, drainSeconds: 0 });
      try {
        const a = await colyseus.sdk.joinOrCreate<MMOState>("mmo", { world: choice });
        const b = await colyseus.sdk.joinOrCreate<MMOState>("mmo", { world: choice });
        const room = roomOf(colyseus, a);
        expect(colyseusInternals.serializerOf(room) instanceof FanOutSerializer).toBe(choice === "fanout");
        await placeAt(colyseus, a, 50, 50);
        await placeAt(colyseus, b, 80, 50);
        await until(() => a.state.players?.has(b.sessionId) === true && b.state.players?.has(a.sessionId) === true, "A and B see each other");
        await Promise.all([a.leave(), b.leave()]);
      } finally {
        await colyseus.shutdown();
      }
    });
  }
});

describe("creating a room on a given process (a draining region's new room)", () => {
  it("goes through matchmaking's process channel: the room is created there and listed", async () => {
    const colyseus = await bootMMO({ drainSeconds: 0 });
    try {
      // This test server is the only process: the request goes out on its own channel and comes
      // back to it, as it would from a draining process to a live one.
      const room = await colyseusInternals.createRoomOnProcess(matchMaker.processId, "mmo", { world: "seam" }, 3000);
      expect(room.processId).toBe(matchMaker.processId);
      expect(matchMaker.getLocalRoomById(room.roomId)).toBeDefined();
      expect((await matchMaker.query({ name: "mmo" })).map((r) => r.roomId)).toContain(room.roomId);
      // A process that does not exist gets no answer (the caller falls back to the 4001 drain).
      await expect(colyseusInternals.createRoomOnProcess("no-such-process", "mmo", { world: "seam2" }, 300)).rejects.toThrow(/ipc_timeout/);
    } finally {
      await colyseus.shutdown();
    }
  });
});
