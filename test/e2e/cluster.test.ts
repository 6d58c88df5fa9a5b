import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedProcess, freePort, startProcess, tsx } from "../../scripts/lib";
import { hostOf } from "../helpers/cluster";
import { launchBrowser, openPlayer, screenshot, waitFor } from "./browser";

// Two browsers play one world through the cluster's single front door; the process hosting
// the world is drained (SIGTERM), then another one is killed (SIGKILL): the pages follow
// their world to a live process by themselves.
let cluster: ManagedProcess;
let base: string;
let redisUrl: string;
let pids: Record<string, number> = {};
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

beforeAll(async () => {
  const front = await freePort();
  cluster = await startProcess(...tsx("scripts/cluster.ts", "--processes", "3", "--port", String(front)), {
    env: { MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-cluster-data-")), REDIS_URL: "", PUBLIC_HOST: "127.0.0.1", MONITOR_PASSWORD: "e2e", MMO_DRAIN_SECONDS: "2", GAME_GEMS: "20", GAME_NPCS: "2" },
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

/** Which cluster process (p1, p2, ...) hosts a room. */
async function processOf(roomId: string): Promise<string> {
  const address = await hostOf(redisUrl, roomId);
  return /\/(p\d+)$/.exec(address ?? "")?.[1] ?? "?";
}

describe("two browsers through the cluster's front door", () => {
  it("play one world, and follow it to a live process on drain and on a crash", async () => {
    const a = await openPlayer(context, base, "world=cluster&name=Ann&x=1000&y=1000");
    const b = await openPlayer(context, base, "world=cluster&name=Bo&x=1100&y=1000");
    const sa = await waitFor(a, "Ann sees Bo", (s) => s.players.some((p) => p.name === "Bo"));
    await waitFor(b, "Bo sees Ann", (s) => s.players.some((p) => p.name === "Ann"));
    const first = await processOf(sa.roomId!);
    await screenshot(a, "cluster-before");

    // Drain the process hosting the world: the pages get the notice, then rejoin elsewhere.
    process.kill(pids[first], "SIGTERM");
    await waitFor(a, "drain notice shown", (s) => s.chat.some((l) => l.startsWith("server: this server is restarting")), 5000);
    const moved = await waitFor(a, "Ann moved to a new room", (s) => s.status === "connected" && !!s.roomId && s.roomId !== sa.roomId && s.self !== null, 20_000);
    await waitFor(b, "Bo moved too", (s) => s.status === "connected" && s.roomId === moved.roomId, 20_000);
    await waitFor(a, "Ann sees Bo again", (s) => s.players.some((p) => p.name === "Bo"), 10_000);
    expect(Math.abs(moved.self!.x - 1000)).toBeLessThan(50); // resumed where she was
    const second = await processOf(moved.roomId!);
    expect(second).not.toBe(first);
    await screenshot(a, "cluster-after-drain");

    // Kill the new host outright: the pages give up reconnecting and rejoin a live process.
    process.kill(pids[second], "SIGKILL");
    const t0 = Date.now();
    const again = await waitFor(a, "Ann back after the crash", (s) => s.status === "connected" && !!s.roomId && s.roomId !== moved.roomId && s.self !== null, 30_000);
    await waitFor(b, "Bo back too", (s) => s.status === "connected" && s.roomId === again.roomId, 30_000);
    await waitFor(b, "Bo sees Ann after the crash", (s) => s.players.some((p) => p.name === "Ann"), 10_000);
    console.log(`pages rejoined their world ${((Date.now() - t0) / 1000).toFixed(1)} s after its process was killed`);
    const third = await processOf(again.roomId!);
    expect([first, second]).not.toContain(third);
    await screenshot(b, "cluster-after-crash");
    await Promise.all([a.close(), b.close()]);
  }, 120_000);
});
