import type { Server } from "@colyseus/core";
import { listen } from "@colyseus/tools";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { freePort, launchBrowser } from "./browser";

/** The real server (arena.config.ts) serving the built client, and a headless Chromium. */
export interface Game {
  server: Server;
  /** `http://localhost:<port>`. */
  base: string;
  /** Where the built client is served from (arena.config's clientDist). */
  clientDist: string;
  context: BrowserContext;
  /** Closes the browser, then shuts the server down. */
  stop(): Promise<void>;
}

/**
 * Starts the game for one browser test file (in its `beforeAll`): arena.config.ts on a free
 * port with a fresh data directory, a known monitor password and no matchmaking rate limit
 * or per-address room quota (every page joins from 127.0.0.1, many times over), plus `env` (e.g. MMO_MAX_USERS), and a
 * browser. The environment is read when arena.config.ts is first imported, so once per file.
 */
export async function startGame(env: Record<string, string> = {}): Promise<Game> {
  process.env.MONITOR_PASSWORD ??= "e2e";
  process.env.MMO_DATA_DIR = mkdtempSync(join(tmpdir(), "mmo-e2e-data-"));
  process.env.MMO_MATCHMAKE_PER_MINUTE = "100000";
  process.env.MMO_ROOMS_PER_ADDRESS = "100000";
  Object.assign(process.env, env);
  const port = await freePort();
  const config = await import("../../arena.config");
  const server = await listen(config.default, port);
  const browser = await launchBrowser();
  return {
    server,
    base: `http://localhost:${port}`,
    clientDist: config.clientDist,
    context: browser.context,
    async stop() {
      await browser.close();
      await server.gracefullyShutdown(false);
    },
  };
}
