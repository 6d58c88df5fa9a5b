import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPlayer, screenshot, waitFor } from "./browser";
import { type Game, startGame } from "./game";

// The built client as the game server serves it: Phaser comes in a chunk of its own (cached
// across releases of the game's code), and the HUD panel is opaque over the sprites.
let game: Game;
let base: string;
let context: BrowserContext;

beforeAll(async () => {
  game = await startGame();
  ({ base, context } = game);
}, 60_000);

afterAll(() => game?.stop(), 30_000);

describe("the built client", () => {
  it("loads Phaser as its own chunk, and draws an opaque HUD over the sprites", async () => {
    const scripts = new Map<string, number>();
    context.on("response", (res) => {
      const path = new URL(res.url()).pathname;
      if (path.endsWith(".js")) void res.body().then((b) => scripts.set(path, b.length), () => {});
    });
    // Ann stands where the HUD panel covers her on Bo's page (its top-left corner).
    const ann = await openPlayer(context, base, "world=e2e-hud&name=Ann&x=680&y=730");
    const bo = await openPlayer(context, base, "world=e2e-hud&name=Bo&x=1000&y=1000");
    await waitFor(bo, "Bo sees Ann", (s) => s.players.some((p) => p.name === "Ann"));

    const phaser = [...scripts].find(([p]) => /\/assets\/phaser-[\w-]+\.js$/.test(p));
    const main = [...scripts].find(([p]) => /\/assets\/main-[\w-]+\.js$/.test(p));
    expect(phaser, [...scripts.keys()].join(", ")).toBeDefined();
    expect(main).toBeDefined();
    expect(phaser![1]).toBeGreaterThan(1_000_000);
    expect(main![1]).toBeLessThan(100_000); // the game's own code, without Phaser
    console.log(`scripts loaded: ${[...scripts].map(([p, n]) => `${p} ${(n / 1024).toFixed(1)} KiB`).join(", ")}`);

    const hud = await bo.evaluate(() => {
      const el = document.getElementById("hud")!;
      const r = el.getBoundingClientRect();
      return { background: getComputedStyle(el).backgroundColor, box: { x: r.x, y: r.y, width: r.width, height: r.height } };
    });
    expect(hud.background).toMatch(/^rgb\(\d+, \d+, \d+\)$/); // no alpha: opaque
    await screenshot(bo, "hud-over-sprites");
    // The panel's pixels are its own: its background colour and its text, nothing of the scene.
    const png = await bo.screenshot({ clip: { x: hud.box.x + 8, y: hud.box.y + 2, width: hud.box.width - 16, height: 4 } });
    const colors = await bo.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext("2d")!;
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<string>();
      for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
      return [...seen];
    }, png.toString("base64"));
    expect(colors, "the top strip of the panel is one colour").toHaveLength(1);
    await Promise.all([ann.close(), bo.close()]);
  });
});
