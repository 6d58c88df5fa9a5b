import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { CHROMIUM } from "./globalSetup";

export { freePort } from "../../scripts/lib";

/** Where screenshots go; CI keeps the folder in its clone for inspection. */
export const ARTIFACTS = join(process.cwd(), "test-artifacts", "e2e");

/** The client's `window.__mmo.snapshot()`. */
export interface Snapshot {
  id: string | null;
  roomId: string | null;
  world: string;
  status: string;
  statusDetail: string;
  statusHistory: string[];
  overlay: string | null;
  self: { x: number; y: number; predictedX: number; predictedY: number; score: string } | null;
  players: Array<{ id: string; name: string; x: number; y: number }>;
  items: Array<{ id: string; kind: string; x: number; y: number }>;
  drawn: Array<{ id: string; kind: string; x: number; y: number }>;
  userCount: number;
  chat: string[];
  renderer: string;
  frames: number;
  debug: boolean;
}


/** Debian's Chromium, headless, with a fresh profile, and no throttling of background tabs. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "mmo-chromium-"));
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 960, height: 640 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Several pages play at once: keep the hidden ones running at full speed.
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => (window as unknown as { __mmo: { snapshot(): Snapshot } }).__mmo.snapshot());
}

/** Polls `check` on the page's snapshot until it holds; the error names `what` and shows the last snapshot. */
export async function waitFor(page: Page, what: string, check: (s: Snapshot) => boolean, ms = 10_000): Promise<Snapshot> {
  const start = Date.now();
  let last: Snapshot | undefined;
  while (Date.now() - start < ms) {
    last = await snapshot(page).catch(() => undefined);
    if (last && check(last)) return last;
    await page.waitForTimeout(50);
  }
  const brief = last && { ...last, items: `${last.items.length} items`, drawn: `${last.drawn.length} drawn` };
  throw new Error(`timed out after ${ms} ms waiting for: ${what}\nlast snapshot: ${JSON.stringify(brief)}`);
}

/** Opens the game in a new page and waits until its player is placed. */
export async function openPlayer(context: BrowserContext, base: string, query: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[page ${query}] ${e.message}`));
  await page.goto(`${base}/?${query}`);
  await waitFor(page, `${query} connected and placed`, (s) => s.status === "connected" && s.self !== null && s.frames > 5);
  return page;
}

/**
 * Saves a screenshot and checks that the scene was really drawn: many colours and a good
 * share of non-background pixels, not a black or empty canvas.
 */
export async function screenshot(page: Page, name: string): Promise<{ distinctColors: number; nonBackgroundRatio: number; aoiBoxRatio: number }> {
  await page.bringToFront();
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  return page.evaluate(() =>
    (window as unknown as { __mmo: { canvasStats(): Promise<{ distinctColors: number; nonBackgroundRatio: number; aoiBoxRatio: number }> } }).__mmo.canvasStats(),
  );
}

/** Holds a key for `ms`. */
export async function hold(page: Page, key: string, ms: number): Promise<void> {
  await page.keyboard.down(key);
  await page.waitForTimeout(ms);
  await page.keyboard.up(key);
}
