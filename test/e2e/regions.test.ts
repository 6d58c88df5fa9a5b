import { matchMaker } from "@colyseus/core";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ArenaRoom } from "../../src/game/ArenaRoom";
import { launchBrowser, openPlayer, screenshot, snapshot, waitFor } from "./browser";
import { type Game, startGame } from "./game";

// A world split into two region rooms side by side (x < 1000: the entry region "", x >= 1000:
// "1_0"), declared through the worlds table (MMO_WORLDS_FILE), played by three pages: a walker
// who crosses the border holding a key, an observer on each side. Every animation frame of
// every page is sampled in the page itself while the walker is handed over.
const SPEED = 240;
const WORLD = "split";
const dir = mkdtempSync(join(tmpdir(), "mmo-e2e-regions-"));
const worldsFile = join(dir, "worlds.json");
writeFileSync(
  worldsFile,
  JSON.stringify({
    [WORLD]: {
      title: "Two regions",
      settings: {
        mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } },
        regionSize: { x: 1000, y: 1000 },
        // Wide on x: both observers keep the walker in view however far a slow page lets it walk.
        aoi: { x: 600, y: 400, z: 0 },
        aoiLeaveMargin: 32,
        handoffHysteresis: 48,
        proximityUpdateMillis: 50,
        speed: SPEED,
      },
    },
  }),
);

let game: Game;
let base: string;
let context: BrowserContext;
/**
 * A browser of its own for each observer: a page that is not its window's front tab gets no
 * animation frames (Chromium pauses requestAnimationFrame in hidden tabs), and every page must draw.
 */
const others: Array<Awaited<ReturnType<typeof launchBrowser>>> = [];

beforeAll(async () => {
  // No demo gems or NPCs: the walker's score must not change on the way (one item is placed by the test).
  game = await startGame({ MMO_WORLDS_FILE: worldsFile, GAME_GEMS: "0", GAME_NPCS: "0" });
  ({ base, context } = game);
  others.push(await launchBrowser(), await launchBrowser());
}, 60_000);

/** Pages a test opened: closed after it whatever happened (a player still playing would hold its identity). */
const opened: Page[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await Promise.allSettled(others.map((b) => b.close()));
  await game?.stop();
}, 30_000);

/** The room of a region of the split world (waits a little for it to be created). */
async function regionRoom(region: string): Promise<ArenaRoom> {
  for (let tries = 0; ; tries++) {
    const listing = (await matchMaker.query({ name: "mmo" })).find((r) => r.metadata?.world === WORLD && (r.metadata?.region ?? "") === region);
    if (listing) return matchMaker.getLocalRoomById(listing.roomId) as unknown as ArenaRoom;
    if (tries > 50) throw new Error(`no room for region "${region}" of ${WORLD}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One animation frame of a page: its region, the own player as drawn, and the watched sprites. */
interface Frame {
  t: number;
  region: string | undefined;
  /** The room the page draws. */
  roomId: string | null;
  overlay: string | null;
  self: { x: number; y: number; label: string | null } | null;
  /** Watched entities by id: where drawn and the view's serial (null: not drawn this frame). */
  seen: Record<string, { x: number; y: number; serial: number | undefined } | null>;
}

/**
 * Records, on every requestAnimationFrame of `page` until `stopRecording` (at most `ms`), what
 * the client draws (`window.__mmo.snapshot()`). Runs in the page, so no frame is missed.
 */
function record(page: Page, watch: string[], ms: number): Promise<Frame[]> {
  return page.evaluate(
    ({ watch, ms }) =>
      new Promise<Frame[]>((resolve) => {
        type Snap = {
          region?: string;
          roomId: string | null;
          overlay: string | null;
          self: { drawnX: number; drawnY: number; label?: string | null } | null;
          drawn: Array<{ id: string; x: number; y: number; serial?: number }>;
        };
        const api = (window as unknown as { __mmo: { snapshot(): Snap } }).__mmo;
        const out: Frame[] = [];
        const end = performance.now() + ms;
        const frame = (t: number) => {
          const s = api.snapshot();
          const seen: Frame["seen"] = {};
          for (const id of watch) {
            const d = s.drawn.find((v) => v.id === id);
            seen[id] = d ? { x: d.x, y: d.y, serial: d.serial } : null;
          }
          out.push({ t, region: s.region, roomId: s.roomId, overlay: s.overlay, self: s.self && { x: s.self.drawnX, y: s.self.drawnY, label: s.self.label ?? null }, seen });
          const stop = (window as unknown as { __stopRecording?: boolean }).__stopRecording;
          if (performance.now() < end && !stop) requestAnimationFrame(frame);
          else resolve(out);
        };
        requestAnimationFrame(frame);
      }),
    { watch, ms },
  );
}

/**
 * The largest drawn step between consecutive frames, and the largest excess over what `speed`
 * allows in that frame (plus RATE_ALLOWANCE: the draw delay easing, a fading correction).
 */
function steps(frames: Frame[], at: (f: Frame) => { x: number; y: number } | null | undefined, rate = RATE_ALLOWANCE) {
  let max = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let worst = { step: 0, dt: 0, t: 0 };
  for (let i = 1; i < frames.length; i++) {
    const a = at(frames[i - 1]);
    const b = at(frames[i]);
    if (!a || !b) continue;
    const step = Math.hypot(b.x - a.x, b.y - a.y);
    const dt = frames[i].t - frames[i - 1].t;
    max = Math.max(max, step);
    const excess = step - (SPEED * (1 + rate) * dt) / 1000;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = { step: Math.round(step * 10) / 10, dt: Math.round(dt), t: Math.round(frames[i].t) };
    }
  }
  return { max: Math.round(max * 10) / 10, worstExcess: Math.round(worstExcess * 10) / 10, worst };
}

/** A drawn step may exceed `speed` by this share (interpolation speeds up a little while its delay shrinks)... */
const RATE_ALLOWANCE = 0.25;
/**
 * ...and by this much (units) per frame: a small correction fading out. A jump is far more
 * (the stale keys of a handoff offer: 164 units; a new room's acks restarting the input's
 * duration: 52), and a re-created or missing sprite fails the serial and every-frame checks
 * below whatever its step. Measured with this client: -9 to +3 on an otherwise idle machine,
 * up to 11.5 in one CI run (the walker's page at 8 fps next to two observers and the server on
 * 2 cores, the correction landing within one 83 ms frame), 16.1 once in back-to-back runs.
 */
const ALLOWANCE = 25;
/**
 * How the observers draw the walker is the server's ghosts and the existing interpolation, on
 * pages that share two cores with the server and each other: when the server's patches come
 * late, a remote sprite catches up at up to about twice its speed (unsplit worlds too). A
 * looser bound for them: a sprite lost or re-created fails the serial and every-frame checks
 * below, and a jump back the monotonic one, whatever its step. Measured: six CI runs -2.6 to
 * 60.1; fourteen back-to-back runs on this machine (the previous run's browser still winding
 * down, load average about 9) -5.8 to 133.1, the worst an observer's page catching up 120-150
 * units in one frame around the switch. That catch-up is a known flaw (see BENCHMARKS, Regions:
 * "observers' catch-up at a handoff"), bounded here so that it cannot grow unnoticed.
 */
const REMOTE_RATE = 1.5;
const REMOTE_ALLOWANCE = 160;

const stopRecording = (page: Page) => page.evaluate(() => ((window as unknown as { __stopRecording?: boolean }).__stopRecording = true));

describe("a split world in the browser", () => {
  it("hands a walking player to the next region seamlessly: no jump, same sprites, seen throughout", async () => {
    const walker = await openPlayer(context, base, `world=${WORLD}&name=Walker&x=850&y=500`);
    const west = await openPlayer(others[0].context, base, `world=${WORLD}&name=West&x=900&y=600`);
    const east = await openPlayer(others[1].context, base, `world=${WORLD}&name=East&x=1150&y=420&region=1_0`);
    opened.push(walker, west, east);
    // The observers draw small (software rendering on a shared CPU): the walker's page keeps its frame rate.
    await Promise.all([west.setViewportSize({ width: 320, height: 214 }), east.setViewportSize({ width: 320, height: 214 })]);
    const [sw, swest, seast] = await Promise.all([snapshot(walker), snapshot(west), snapshot(east)]);
    const id = sw.id!;
    const westRoom = await regionRoom("");
    const eastRoom = await regionRoom("1_0");
    expect(sw.roomId).toBe(westRoom.roomId);

    // A score the label must keep, and an item of the east region near the border (a ghost in the west).
    westRoom.setUserVariables(id, { score: 7 });
    const item = eastRoom.addItem("gem", { x: 1060, y: 700 }, { value: 1 });
    await waitFor(walker, "the walker draws both observers, the item and its score", (s) =>
      [swest.id!, seast.id!, item.id].every((x) => s.drawn.some((d) => d.id === x)) && s.self?.score === "7",
    );
    await waitFor(west, "West draws the walker", (s) => s.drawn.some((d) => d.id === id));
    await waitFor(east, "East draws the walker (a ghost of the west region)", (s) => s.drawn.some((d) => d.id === id));

    // Record every frame of the three pages while the walker crosses the border (x 1000, handed over past 1048).
    const recordings = Promise.all([record(walker, [swest.id!, seast.id!, item.id], 15_000), record(west, [id], 15_000), record(east, [id], 15_000)]);
    await walker.waitForTimeout(300);
    // The key is held across the border, through the handoff (offered past x 1048), and a little after.
    await walker.keyboard.down("ArrowRight");
    await waitFor(walker, "the walker is handed to region 1_0 (its page's room is that region's)", (s) => s.roomId === eastRoom.roomId, 8000);
    await walker.waitForTimeout(300);
    await walker.keyboard.up("ArrowRight");
    await walker.waitForTimeout(800);
    await Promise.all([walker, west, east].map(stopRecording));
    const [fw, fwest, feast] = await recordings;

    // What the pages drew, measured before anything is asserted (the log shows it either way).
    const switchedAt = fw.findIndex((f) => f.roomId === eastRoom.roomId);
    const own = steps(fw, (f) => f.self);
    // Around the switch alone (a second either side).
    const near = fw.filter((f) => switchedAt >= 0 && Math.abs(f.t - fw[switchedAt].t) < 1000);
    const ownAtSwitch = steps(near, (f) => f.self);
    const xs = fw.map((f) => f.self?.x ?? Number.NaN);
    const remote = { west: steps(fwest, (f) => f.seen[id], REMOTE_RATE), east: steps(feast, (f) => f.seen[id], REMOTE_RATE) };
    const fps = (frames: Frame[]) => Math.round(((frames.length - 1) * 1000) / (frames.at(-1)!.t - frames[0].t));
    if (process.env.REGIONS_DEBUG) {
      for (const f of fw) console.log(Math.round(f.t), f.region, Math.round(f.self?.x ?? -1), f.self?.label, JSON.stringify(f.seen));
      for (const [name, frames] of [["west", fwest], ["east", feast]] as const) {
        console.log(`OBS ${name}: ${frames.map((f) => `${Math.round(f.t)}:${f.seen[id] ? Math.round(f.seen[id].x) : "-"}`).join(" ")}`);
      }
    }
    console.log(
      `handoff: walker ${fw.length} frames (${fps(fw)} fps), switch at frame ${switchedAt} x=${Math.round(xs[switchedAt])}; own drawn step max ${own.max} (near the switch ${ownAtSwitch.max}), worst over speed`,
      own.worst,
      `excess ${own.worstExcess}; west draws it: max ${remote.west.max} excess ${remote.west.worstExcess}; east: max ${remote.east.max} excess ${remote.east.worstExcess}`,
    );

    // Handed over: the region changed once, to 1_0, with the same player.
    const after = await snapshot(walker);
    expect((after as { region?: string }).region).toBe("1_0");
    expect(after.id).toBe(id);
    expect(after.roomId).toBe(eastRoom.roomId);
    expect((await snapshot(east)).roomId).toBe(eastRoom.roomId);
    expect(fw[0].region).toBe("");
    expect(fw.at(-1)!.region).toBe("1_0");
    expect(switchedAt).toBeGreaterThan(0);

    // No error overlay on any page, on any frame.
    for (const frames of [fw, fwest, feast]) expect(frames.filter((f) => f.overlay !== null)).toEqual([]);

    // The own player: drawn on every frame, with its name and score, never jumping.
    expect(fw.every((f) => f.self !== null && f.self.label === "Walker ★7")).toBe(true);
    expect(Math.min(...xs.slice(switchedAt))).toBeGreaterThan(1000);
    expect(own.worstExcess).toBeLessThan(ALLOWANCE);

    // The walker's page keeps the observers' and the item's sprites: drawn on every frame, never re-created.
    for (const other of [swest.id!, seast.id!, item.id]) {
      const serials = new Set(fw.map((f) => f.seen[other]?.serial ?? -1));
      expect([other, [...serials]]).toEqual([other, [fw[0].seen[other]!.serial]]);
    }
    // The observers on both sides draw the walker on every frame, never re-created, never jumping.
    for (const [name, frames] of [["west", fwest], ["east", feast]] as const) {
      const missing = frames.filter((f) => !f.seen[id]).length;
      expect([name, missing]).toEqual([name, 0]);
      expect([name, new Set(frames.map((f) => f.seen[id]!.serial)).size]).toEqual([name, 1]);
      // They saw it cross.
      expect(frames.at(-1)!.seen[id]!.x).toBeGreaterThan(1100);
    }
    expect(remote.west.worstExcess).toBeLessThan(REMOTE_ALLOWANCE);
    expect(remote.east.worstExcess).toBeLessThan(REMOTE_ALLOWANCE);
    // Never drawn going back (a stale ghost, a reset interpolation).
    for (const frames of [fwest, feast]) {
      for (let i = 1; i < frames.length; i++) expect(frames[i].seen[id]!.x).toBeGreaterThanOrEqual(frames[i - 1].seen[id]!.x - 1);
    }

    // The walker's messages and keys go to the new room: chat reaches the east observer, and
    // another key press moves the player there (acks of the new room reconcile the prediction).
    await walker.keyboard.press("Enter");
    await walker.keyboard.type("hello from the east");
    await walker.keyboard.press("Enter");
    await waitFor(east, "East gets the walker's chat", (s) => s.chat.some((l) => l.endsWith("hello from the east")));
    const before = (await snapshot(walker)).self!;
    await walker.keyboard.down("ArrowDown");
    await walker.waitForTimeout(400);
    await walker.keyboard.up("ArrowDown");
    const moved = await waitFor(walker, "the walker moved down and settled with the server", (s) => s.self!.y > before.y + 60 && Math.abs(s.self!.predictedY - s.self!.y) < 2);
    expect(Math.abs(moved.self!.predictedX - moved.self!.x)).toBeLessThan(2);
    expect(moved.status).toBe("connected");
    expect(moved.statusHistory).toEqual(["connecting", "connected"]);

    const shot = await screenshot(walker, "regions-walker-after-crossing");
    expect(shot.distinctColors).toBeGreaterThan(20);
    expect(shot.nonBackgroundRatio).toBeGreaterThan(0.01);
    await screenshot(west, "regions-west-observer");
    await Promise.all([walker.close(), west.close(), east.close()]);
  }, 60_000);

  it("a returning player resumes in the region it last played in, where it was, with its score", async () => {
    // The same browser (its localStorage: the identity and the last region), a new page, no region in the URL.
    const back = await openPlayer(context, base, `world=${WORLD}&name=Walker`);
    opened.push(back);
    const eastRoom = await regionRoom("1_0");
    const s = await waitFor(back, "the returning walker plays in region 1_0 with its score", (v) => v.roomId === eastRoom.roomId && v.self?.score === "7", 15_000);
    expect((s as { region?: string }).region).toBe("1_0");
    // Where it left the world (the east region remembered it), not a fresh spawn.
    expect(s.self!.x).toBeGreaterThan(1000);
    await back.close();
  }, 40_000);
});
