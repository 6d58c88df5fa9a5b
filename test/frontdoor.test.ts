import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { type ManagedProcess, freePort, startProcess, tsx } from "../scripts/lib";
import { sleep, until } from "./helpers/server";

// `npm run cluster`: Redis, two game processes and nginx in front, all started and stopped by
// the cluster command itself. Clients only know the front door's address.
let cluster: ManagedProcess;
let front: number;

beforeAll(async () => {
  front = await freePort();
  cluster = await startProcess(...tsx("scripts/cluster.ts", "--processes", "2", "--port", String(front)), {
    env: { MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-front-data-")), REDIS_URL: "", MONITOR_PASSWORD: "frontdoor", MMO_DRAIN_SECONDS: "1", GAME_GEMS: "5", GAME_NPCS: "1" },
    ready: "CLUSTER READY",
    readyMs: 240_000,
  });
}, 300_000);

afterAll(async () => {
  await cluster?.stop("SIGKILL");
});

/** The process a room lives on, from its WebSocket URL (/p1/..., /p2/...). */
const processOf = (room: Room) => /\/(p\d+)\//.exec((room.connection as unknown as { transport: { ws: { url: string } } }).transport.ws.url)?.[1];

describe("the cluster command", () => {
  it("serves matchmaking, rooms and the client through one front door, rooms spread over processes", async () => {
    const page = await fetch(`http://127.0.0.1:${front}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<div id=\"game\">");

    const a = await joinWorld(new Client(`http://127.0.0.1:${front}`), { world: "front-1", name: "A" });
    const b = await joinWorld(new Client(`http://127.0.0.1:${front}`), { world: "front-1", name: "B" });
    expect(b.roomId).toBe(a.roomId);
    a.send("position", { x: 300, y: 300 });
    b.send("position", { x: 350, y: 300 });
    await until(() => a.state.players?.has(b.sessionId) === true && b.state.players?.has(a.sessionId) === true, "A and B see each other");

    const others: Room<MMOState>[] = [];
    for (const world of ["front-2", "front-3"]) {
      await sleep(1200); // room counts are published once a second
      others.push(await joinWorld(new Client(`http://127.0.0.1:${front}`), { world }));
    }
    expect(new Set([a, ...others].map(processOf)).size).toBe(2);
    await Promise.all([a, b, ...others].map((r) => r.leave()));
  });

  it("Ctrl-C stops everything it started", async () => {
    cluster.child.kill("SIGINT");
    expect(await cluster.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${front}/healthz`)).rejects.toThrow();
    expect(cluster.output()).toContain("Stopping the cluster");
  }, 60_000);
});
