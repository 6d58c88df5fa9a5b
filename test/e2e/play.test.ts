import { matchMaker } from "@colyseus/core";
import { Client } from "@colyseus/sdk";
import express from "express";
import { join } from "node:path";
import { createServer } from "node:http";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArenaRoom } from "../../src/game/ArenaRoom";
import { hold, openPlayer, screenshot, snapshot, waitFor } from "./browser";
import { type Game, startGame } from "./game";

// The real server (arena.config.ts) on a free port, serving the built client, played by
// several headless Chromium pages. Each scenario uses its own world.
let game: Game;
let base: string;
let context: BrowserContext;
let clientDist: string;

beforeAll(async () => {
  game = await startGame({ MMO_MAX_USERS: "3" });
  ({ base, context, clientDist } = game);
}, 60_000);

afterAll(() => game?.stop(), 30_000);

async function roomOfWorld(world: string): Promise<ArenaRoom> {
  const listing = (await matchMaker.query({ name: "mmo" })).find((r) => r.metadata?.world === world);
  if (!listing) throw new Error(`no room for world ${world}`);
  return matchMaker.getLocalRoomById(listing.roomId) as unknown as ArenaRoom;
}

/** The part of the state this file reads through a plain SDK client (no schema classes). */
type MMOStateLike = { players?: Map<string, { name: string }> };

const drawnOf = (s: Awaited<ReturnType<typeof snapshot>>, id: string) => s.drawn.find((d) => d.id === id);

async function closeAll(...pages: Page[]): Promise<void> {
  await Promise.all(pages.map((p) => p.close()));
}

describe("two browsers in one world", () => {
  it("near: each page shows the other; keyboard movement on one moves its sprite on the other", async () => {
    const a = await openPlayer(context, base, "world=e2e-near&name=Alice&x=1000&y=1000");
    const b = await openPlayer(context, base, "world=e2e-near&name=Bob&x=1120&y=1040");
    const sa = await waitFor(a, "Alice sees Bob", (s) => s.players.some((p) => p.name === "Bob"));
    const sb = await waitFor(b, "Bob sees Alice (drawn)", (s) => s.players.some((p) => p.name === "Alice") && !!drawnOf(s, sa.id!));
    expect(sa.renderer).toBe("WEBGL");
    expect(sb.userCount).toBe(2);

    await a.bringToFront();
    await hold(a, "ArrowRight", 700);
    const moved = await waitFor(a, "Alice moved right and settled", (s) => s.self!.x > 1100 && Math.abs(s.self!.predictedX - s.self!.x) < 2);
    // Bob's page draws Alice where the server has her, within a small tolerance once interpolation catches up.
    const seen = await waitFor(b, "Bob draws Alice at her new place", (s) => {
      const d = drawnOf(s, sa.id!);
      return !!d && Math.abs(d.x - moved.self!.x) < 3 && Math.abs(d.y - moved.self!.y) < 3;
    });
    expect(drawnOf(seen, sa.id!)!.x).toBeGreaterThan(1100);

    const shotA = await screenshot(a, "near-alice");
    const shotB = await screenshot(b, "near-bob");
    for (const shot of [shotA, shotB]) {
      expect(shot.distinctColors).toBeGreaterThan(20);
      expect(shot.nonBackgroundRatio).toBeGreaterThan(0.01); // a blank or black canvas gives 0
    }
    // F3 draws the AoI box and the grid over the scene.
    await a.bringToFront();
    await a.keyboard.press("F3");
    await waitFor(a, "debug overlay on", (s) => s.debug);
    const debugShot = await screenshot(a, "near-alice-debug");
    // The AoI box is drawn in its own colour (comparing overall pixel counts with the zoom-1
    // shot depended on where the gems happened to fall).
    expect(shotA.aoiBoxRatio).toBe(0);
    expect(debugShot.aoiBoxRatio).toBeGreaterThan(0.001);
    await closeAll(a, b);
  });

  it("far: out of range is absent; walking in makes it appear, walking out makes it vanish", async () => {
    // Default AoI half-width 560 (+32 margin): 720 apart on x is out of range.
    const a = await openPlayer(context, base, "world=e2e-far&name=Alice&x=1000&y=1000");
    const c = await openPlayer(context, base, "world=e2e-far&name=Carol&x=1720&y=1000");
    await a.waitForTimeout(600); // a few proximity updates
    expect((await snapshot(a)).players).toEqual([]);
    expect((await snapshot(c)).players).toEqual([]);
    await screenshot(a, "far-alone");

    await c.bringToFront();
    await hold(c, "ArrowLeft", 1000); // ~240 units closer: 480 apart
    await waitFor(a, "Carol appears for Alice", (s) => s.players.some((p) => p.name === "Carol"));
    await waitFor(c, "Alice appears for Carol", (s) => s.players.some((p) => p.name === "Alice"));
    await screenshot(c, "far-walked-in");

    await hold(c, "ArrowRight", 1800); // back out beyond 592
    await waitFor(a, "Carol vanishes for Alice", (s) => s.players.length === 0 && !s.drawn.some((d) => d.kind === "player"));
    await waitFor(c, "Alice vanishes for Carol", (s) => s.players.length === 0);
    await closeAll(a, c);
  });

  it("chat typed on one page shows on a near page and not on a far one", async () => {
    const a = await openPlayer(context, base, "world=e2e-chat&name=Alice&x=1000&y=1000");
    const near = await openPlayer(context, base, "world=e2e-chat&name=Nell&x=1150&y=1000");
    const far = await openPlayer(context, base, "world=e2e-chat&name=Fred&x=4000&y=4000");
    await a.bringToFront();
    await a.keyboard.press("Enter");
    await a.keyboard.type("hello neighbours");
    await a.keyboard.press("Enter");
    await waitFor(near, "Nell gets the chat", (s) => s.chat.includes("Alice: hello neighbours"));
    await waitFor(a, "Alice sees her own line", (s) => s.chat.includes("Alice: hello neighbours"));
    await far.waitForTimeout(500);
    expect((await snapshot(far)).chat).toEqual([]);
    const shot = await screenshot(near, "chat-near");
    expect(shot.distinctColors).toBeGreaterThan(20);
    await closeAll(a, near, far);
  });

  it("walking over a gem collects it and raises the score on the page", async () => {
    const a = await openPlayer(context, base, "world=e2e-gem&name=Gemma&x=1000&y=2000");
    const room = await roomOfWorld("e2e-gem");
    for (const item of room.getProximityItems({ x: 1150, y: 2000, z: 0 }, { x: 200, y: 60, z: 0 })) room.removeItem(item);
    const gem = room.addItem("gem", { x: 1150, y: 2000 }, { value: "1" });
    await waitFor(a, "the gem is drawn", (s) => s.drawn.some((d) => d.id === gem.id));
    await screenshot(a, "gem-before");
    await a.bringToFront();
    await a.keyboard.down("ArrowRight");
    await waitFor(a, "the gem is gone", (s) => !s.items.some((i) => i.id === gem.id) && !s.drawn.some((d) => d.id === gem.id), 5000);
    await a.keyboard.up("ArrowRight");
    const after = await waitFor(a, "score raised", (s) => Number(s.self!.score) >= 1);
    expect(Number(after.self!.score)).toBeGreaterThanOrEqual(1);
    await screenshot(a, "gem-after");
    await closeAll(a);
  });

  it("clicking on the map walks the player there", async () => {
    const a = await openPlayer(context, base, "world=e2e-click&name=Clicky&x=2000&y=2000");
    await a.bringToFront();
    await a.waitForTimeout(300); // the camera settles on the player (the view's centre)
    await a.mouse.click(480 + 200, 320 + 100);
    // Wait until the server's position has not changed for 400 ms (arrived and stopped).
    let last = { x: 2000, y: 2000, at: Date.now() };
    const stopped = await waitFor(
      a,
      "walked toward the click and stopped",
      (s) => {
        const moved = s.self!.x !== last.x || s.self!.y !== last.y;
        if (moved) last = { x: s.self!.x, y: s.self!.y, at: Date.now() };
        return !moved && s.self!.x > 2100 && Date.now() - last.at > 400;
      },
      8000,
    );
    expect(Math.abs(stopped.self!.x - 2200)).toBeLessThan(15);
    expect(Math.abs(stopped.self!.y - 2100)).toBeLessThan(15);
    await closeAll(a);
  });

  it("pages in different worlds do not see each other", async () => {
    const p = await openPlayer(context, base, "world=e2e-w1&name=Pat&x=1000&y=1000");
    const q = await openPlayer(context, base, "world=e2e-w2&name=Quin&x=1000&y=1000");
    await p.waitForTimeout(600);
    const [sp, sq] = [await snapshot(p), await snapshot(q)];
    expect(sp.players).toEqual([]);
    expect(sq.players).toEqual([]);
    expect(sp.userCount).toBe(1);
    expect(sq.userCount).toBe(1);
    await closeAll(p, q);
  });
});

describe("the process bridge example (Python backend)", () => {
  it("two bunny pages in one room: a click hops the bunny on both", async () => {
    type BunnyState = { me: string; bunnies: Record<string, { x: number; y: number }> };
    const state = (p: Page) => p.evaluate(() => (window as unknown as { __bunny?: { state(): BunnyState } }).__bunny?.state());
    const a = await context.newPage();
    const b = await context.newPage();
    await a.goto(`${base}/bunny.html?room=e2e-bunnies`);
    await b.goto(`${base}/bunny.html?room=e2e-bunnies`);
    await until2(async () => Object.keys((await state(b))?.bunnies ?? {}).length === 2, "two bunnies");
    const me = (await state(a))!.me;
    expect(me).toBeTruthy();
    await a.bringToFront();
    await a.mouse.click(600, 400);
    await until2(async () => (await state(b))?.bunnies[me]?.x === 600, "the hop is seen on the other page");
    expect((await state(b))!.bunnies[me]).toEqual({ x: 600, y: 400 });
    await b.bringToFront();
    await b.screenshot({ path: join(process.cwd(), "test-artifacts", "e2e", "bunny.png") });
    await closeAll(a, b);
  });
});

async function until2(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("two tabs of one browser", () => {
  it("both play, though they share the guest identity in localStorage: the second tab plays as a guest of its own; a duplicated tab as a new guest", async () => {
    const a = await openPlayer(context, base, "world=e2e-tabs&name=Tess&x=2000&y=2000");
    const b = await openPlayer(context, base, "world=e2e-tabs&name=Tess&x=2050&y=2000");
    const sa = await waitFor(a, "the first tab sees the second", (s) => s.players.length === 1);
    const sb = await waitFor(b, "the second tab sees the first", (s) => s.players.length === 1);
    expect(sa.status).toBe("connected");
    expect(sb.status).toBe("connected");
    expect(sa.id).not.toBe(sb.id);
    expect([sa.players[0].name, sb.players[0].name].sort()).toEqual(["Tess", "Tess (2)"]);

    // An SDK observer in the same world counts them: two players, not one twice.
    const observer = await new Client(base).joinOrCreate<MMOStateLike>("mmo", { world: "e2e-tabs", name: "Observer" });
    observer.send("position", { x: 2025, y: 2050 });
    let others: string[] = [];
    for (const until = Date.now() + 10_000; others.length !== 2 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      others = [...(observer.state.players?.values() ?? [])].map((p) => p.name).filter((n) => n !== "Observer");
    }
    expect(others.sort()).toEqual(["Tess", "Tess (2)"]);
    await observer.leave(true); // this file's worlds hold 3 users

    // A duplicated tab copies sessionStorage, so it starts with the second tab's own identity,
    // which is playing: it plays as a new guest instead of being refused.
    const tabToken = await b.evaluate(() => sessionStorage.getItem("mmo.identity.tab.Tess"));
    expect(tabToken).toBeTruthy();
    const duplicate = await context.newPage();
    await duplicate.addInitScript((token) => sessionStorage.setItem("mmo.identity.tab.Tess", token), tabToken!);
    await duplicate.goto(`${base}/?world=e2e-tabs&name=Tess&x=2000&y=2050`);
    const sc = await waitFor(duplicate, "the duplicated tab plays", (s) => s.status === "connected" && s.self !== null);
    expect(sc.overlay).toBeNull();
    expect(new Set([sa.id, sb.id, sc.id]).size).toBe(3);
    const room = await roomOfWorld("e2e-tabs");
    expect([...room.state.players.values()].map((p) => p.name).sort()).toEqual(["Tess", "Tess (2)", "Tess (3)"]);
    expect(await duplicate.evaluate(() => sessionStorage.getItem("mmo.identity.tab.Tess"))).not.toBe(tabToken);
    await closeAll(a, b, duplicate);
  });
});

describe("connection trouble", () => {
  it("a page whose connection the server kills shows reconnecting, then recovers its player", async () => {
    const a = await openPlayer(context, base, "world=e2e-reconnect&name=Rita&x=1000&y=1000");
    const b = await openPlayer(context, base, "world=e2e-reconnect&name=Ben&x=1100&y=1000");
    const before = await waitFor(a, "Rita sees Ben", (s) => s.players.length === 1);
    await a.waitForTimeout(700); // past the client's minimum uptime for reconnection
    const room = await roomOfWorld("e2e-reconnect");
    (room.clients.getById(before.id!)!.ref as unknown as { terminate(): void }).terminate();

    await waitFor(a, "shows reconnecting", (s) => s.status === "reconnecting", 3000);
    await screenshot(a, "reconnecting");
    const after = await waitFor(a, "recovered", (s) => s.status === "connected" && s.statusHistory.includes("reconnecting"), 15_000);
    expect(after.id).toBe(before.id);
    expect(after.self).toMatchObject({ x: 1000, y: 1000 });
    await waitFor(a, "still sees Ben", (s) => s.players.some((p) => p.name === "Ben"));
    // And keeps playing: Ben sees Rita move.
    await a.bringToFront();
    await hold(a, "ArrowDown", 400);
    await waitFor(b, "Ben sees Rita move after the reconnect", (s) => (s.players.find((p) => p.name === "Rita")?.y ?? 0) > 1050);
    await screenshot(a, "reconnected");
    await closeAll(a, b);
  });

  it("a full world shows a clear message, not a blank canvas", async () => {
    const sdk = new Client(base);
    const fillers = await Promise.all([0, 1, 2].map(() => sdk.joinOrCreate("mmo", { world: "e2e-full" })));
    // Players who took a position (users still in limbo would make room for the newcomer).
    fillers.forEach((r, i) => r.send("position", { x: 100 + i, y: 100 }));
    await new Promise((r) => setTimeout(r, 300));
    const page = await context.newPage();
    await page.goto(`${base}/?world=e2e-full&name=Late`);
    const s = await waitFor(page, "full-world message", (s) => s.status === "disconnected" && !!s.overlay);
    expect(s.overlay).toMatch(/world "e2e-full" is full/);
    await screenshot(page, "world-full");
    await Promise.all(fillers.map((r) => r.leave()));
    // Retry now that there is room.
    await page.click("#overlay-retry");
    await waitFor(page, "joined after retry", (s) => s.status === "connected" && s.self !== null);
    await closeAll(page);
  });

  it("a server that is down shows a clear message", async () => {
    // Only the static client, no game server behind it.
    const port = await new Promise<number>((resolve) => {
      const http = createServer(express().use(express.static(clientDist)));
      http.listen(0, "127.0.0.1", () => resolve((http.address() as { port: number }).port));
      afterAll(() => void http.close());
    });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?world=nowhere`);
    const s = await waitFor(page, "server-down message", (s) => s.status === "disconnected" && !!s.overlay);
    expect(s.overlay).toMatch(/cannot reach the game server/);
    await screenshot(page, "server-down");
    await closeAll(page);
  });
});
