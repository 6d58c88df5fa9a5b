import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedProcess, freePort, startProcess, tsx } from "../../scripts/lib";
import { hostOf } from "../helpers/cluster";
import { launchBrowser, openPlayer, screenshot, snapshot, waitFor } from "./browser";

// Two browsers play a world split into regions (the demo's continent) through the cluster's
// front door; the process hosting their region is drained (SIGTERM, as a rolling deploy
// delivers it): the pages are handed over to their region's new room on the other process
// and notice nothing: no notice, no reconnection, the same player where it stood.
let cluster: ManagedProcess;
let base: string;
let redisUrl: string;
let pids: Record<string, number> = {};
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

beforeAll(async () => {
  const front = await freePort();
  cluster = await startProcess(...tsx("scripts/cluster.ts", "--processes", "2", "--port", String(front)), {
    env: { MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-drain-regions-")), REDIS_URL: "", PUBLIC_HOST: "127.0.0.1", MONITOR_PASSWORD: "e2e", MMO_DRAIN_SECONDS: "10", GAME_GEMS: "20", GAME_NPCS: "0" },
    ready: "CLUSTER READY",
    readyMs: 240_000,
  });
  const ready = cluster.output().split("\n").find((l) => l.startsWith("CLUSTER READY"))!;
  base = `http://127.0.0.1:${front}`;
  redisUrl = /Redis (\S+)/.exec(ready)![1];
  pids = Object.fromEntries([...ready.matchAll(/(p\d+) port \d+ pid (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  browser = await launchBrowser();
  context = browser.context;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop("SIGINT", 30_000);
}, 60_000);

/** Which cluster process (p1, p2) hosts a room. */
async function processOf(roomId: string): Promise<string> {
  const address = await hostOf(redisUrl, roomId);
  return /\/(p\d+)$/.exec(address ?? "")?.[1] ?? "?";
}

describe("a drained region, in the browser", () => {
  it("hands its pages over to the region's new room on the other process: no notice, no reconnection, the same player in place", async () => {
    const a = await openPlayer(context, base, "world=continent&name=Ann&x=1000&y=1000");
    const b = await openPlayer(context, base, "world=continent&name=Bo&x=1100&y=1000");
    const sa = await waitFor(a, "Ann sees Bo", (s) => s.players.some((p) => p.name === "Bo") && s.self !== null);
    const sb = await waitFor(b, "Bo sees Ann", (s) => s.players.some((p) => p.name === "Ann") && s.self !== null);
    const first = await processOf(sa.roomId!);
    expect(Object.keys(pids)).toContain(first);
    const historyBefore = [sa.statusHistory.length, sb.statusHistory.length];

    process.kill(pids[first], "SIGTERM");
    const moved = await waitFor(a, "Ann in the region's new room", (s) => !!s.roomId && s.roomId !== sa.roomId && s.self !== null, 20_000);
    await waitFor(b, "Bo in it too", (s) => s.roomId === moved.roomId && s.self !== null, 20_000);
    await waitFor(a, "Ann sees Bo again", (s) => s.players.some((p) => p.name === "Bo"), 10_000);
    expect(await processOf(moved.roomId!)).not.toBe(first);

    const [ea, eb] = [await snapshot(a), await snapshot(b)];
    for (const [before, after, i] of [[sa, ea, 0], [sb, eb, 1]] as const) {
      expect(after.id).toBe(before.id); // the same player (entity id)
      expect(Math.hypot(after.self!.x - before.self!.x, after.self!.y - before.self!.y)).toBeLessThan(5); // where it stood
      expect(after.chat.filter((l) => l.startsWith("server:"))).toEqual([]); // no drain notice
      // Connected throughout: no reconnecting or disconnected status since the drain.
      expect(after.statusHistory.slice(historyBefore[i]).filter((st) => st !== "connected")).toEqual([]);
      expect(after.overlay).toBeNull();
    }
    await waitFor(a, "the world counts both players", (s) => s.userCount === 2, 5000);
    await screenshot(a, "drain-regions-after");
    await Promise.all([a.close(), b.close()]);
  }, 120_000);
});
