import { Client, type Room } from "@colyseus/sdk";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinWorld } from "../../src/shared/sdk";
import { screenshot, waitFor } from "./browser";
import { type Game, startGame } from "./game";

// The page without ?world= opens on the world picker (fed by the lobby): the declared worlds
// of src/game/worlds.ts and any live one, with live "N / max players"; a click enters that world.
let game: Game;
let base: string;
let context: BrowserContext;
const players: Room[] = [];

beforeAll(async () => {
  game = await startGame({ GAME_GEMS: "20", GAME_NPCS: "2" });
  ({ base, context } = game);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(players.map((p) => Promise.race([p.leave(), new Promise((r) => setTimeout(r, 1000))])));
  await game?.stop();
}, 30_000);

/** Someone playing a world through the SDK (not a page). */
async function play(world: string, name: string): Promise<Room> {
  const room = await joinWorld(new Client(base), { world, name });
  room.onMessage("identity", () => {});
  players.push(room);
  return room;
}

/** The picker's rows as the page shows them: title -> "N / max players". */
async function rows(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll<HTMLButtonElement>("#picker .picker-world")).map((b) => [b.querySelector(".picker-title")!.textContent!, b.querySelector(".picker-count")!.textContent!]),
    ),
  );
}

async function rowsUntil(page: Page, what: string, check: (r: Record<string, string>) => boolean, ms = 10_000): Promise<Record<string, string>> {
  const start = Date.now();
  let last: Record<string, string> = {};
  while (Date.now() - start < ms) {
    last = await rows(page);
    if (check(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what}\nlast rows: ${JSON.stringify(last)}`);
}

describe("the world picker", () => {
  it("lists the worlds with live counts, and a click enters the world with the URL's other parameters kept", async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(`[picker page] ${e.message}`));
    await page.goto(`${base}/?name=Pia`);
    // The declared worlds, nobody playing yet.
    const first = await rowsUntil(page, "the declared worlds", (r) => Object.keys(r).length >= 4);
    expect(first).toEqual({
      "The Meadow": "0 / 5000 players",
      "The Arena (small)": "0 / 20 players",
      "The Frontier (large)": "0 / 10000 players",
      "The Continent (4 regions)": "0 / 5000 players",
    });
    expect(await page.isVisible("#picker-other")).toBe(true); // unknown worlds are played with the defaults

    // Players join two worlds: the counts follow on the open page.
    await play("arena", "Ann");
    await play("frontier", "Fay");
    await rowsUntil(page, "arena 1, frontier 1", (r) => r["The Arena (small)"] === "1 / 20 players" && r["The Frontier (large)"] === "1 / 10000 players");
    await play("arena", "Abe");
    const later = await rowsUntil(page, "arena 2", (r) => r["The Arena (small)"] === "2 / 20 players");
    expect(later["The Meadow"]).toBe("0 / 5000 players");
    // A live world the table does not declare shows up too, by its name.
    await play("e2e-pick-elsewhere", "Eli");
    await rowsUntil(page, "the undeclared live world", (r) => r["e2e-pick-elsewhere"] === "1 / 5000 players");
    await screenshot(page, "picker").catch(() => undefined); // no canvas stats behind the picker

    await page.click('#picker .picker-world[data-world="arena"]');
    await page.waitForURL(/world=arena/);
    const url = new URL(page.url());
    expect(url.searchParams.get("name")).toBe("Pia");
    const s = await waitFor(page, "Pia playing in arena", (x) => x.status === "connected" && x.self !== null && x.userCount === 3);
    expect(s.world).toBe("arena");
    expect(await page.isHidden("#picker")).toBe(true);
    await page.close();
  });

  it("a direct ?world= link skips the picker", async () => {
    const page = await context.newPage();
    await page.goto(`${base}/?world=frontier&name=Dee`);
    await waitFor(page, "Dee playing in frontier", (x) => x.status === "connected" && x.self !== null);
    expect(await page.isHidden("#picker")).toBe(true);
    await page.close();
  });
});
