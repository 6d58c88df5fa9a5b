import compression from "compression";
import express, { type Application } from "express";
import { existsSync } from "node:fs";
import { join, sep } from "node:path";

/**
 * Serves the built browser client (client/dist) the way a CDN would:
 *
 * - compressed (gzip/deflate via the `compression` middleware, for text over 1 KiB): Phaser's
 *   chunk goes from ~1.4 MB to ~0.35 MB on the wire;
 * - Vite's content-hashed files under /assets/ cached for a year and `immutable` (their name
 *   changes whenever their content does), while the HTML pages are revalidated on every load
 *   (`no-cache`), so a new build reaches players on their next reload;
 * - when the client was never built (a production install that skipped `npm run build`), `/`
 *   answers 503 with what to run, instead of Express's bare 404.
 *
 * Compression applies to these static files only: Colyseus's matchmaking answers are small,
 * and WebSocket traffic never passes through Express.
 */
export function serveClient(app: Application, dir: string): void {
  const gzip = compression({ threshold: 1024 });
  app.use(gzip);
  app.use(
    express.static(dir, {
      setHeaders(res, path) {
        if (path.startsWith(join(dir, "assets") + sep)) res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
        else res.setHeader("Cache-Control", "no-cache");
      },
    }),
  );
  app.get(["/", "/index.html", "/bunny.html"], (_req, res, next) => {
    if (existsSync(join(dir, "index.html"))) return next();
    res
      .status(503)
      .type("text/plain")
      .send(`The browser client is not built (${dir} has no index.html).\nRun \`npm run build\` (or \`npm start\`, which builds what is stale), then reload.\n`);
  });
}
