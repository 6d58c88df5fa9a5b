import express from "express";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveClient } from "../src/ops/staticClient";

// The built client as the game server serves it: compressed, hashed assets cached for a
// year, pages revalidated, and a clear answer instead of a 404 when nothing was built.
const dirs: string[] = [];
const servers: Array<ReturnType<ReturnType<typeof express>["listen"]>> = [];

async function serve(dir: string): Promise<string> {
  const app = express();
  serveClient(app, dir);
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((r) => server.once("listening", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let built: string;
let missing: string;

beforeAll(async () => {
  const dist = mkdtempSync(join(tmpdir(), "mmo-static-"));
  dirs.push(dist);
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), `<!doctype html><script type="module" src="/assets/main-abc123.js"></script>`);
  writeFileSync(join(dist, "assets/main-abc123.js"), `console.log(${JSON.stringify("x".repeat(20_000))});`);
  built = await serve(dist);
  const empty = mkdtempSync(join(tmpdir(), "mmo-static-empty-"));
  dirs.push(empty);
  missing = await serve(empty);
});

afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("serving the built client", () => {
  it("hashed assets: compressed, cached for a year, immutable", async () => {
    const res = await fetch(`${built}/assets/main-abc123.js`, { headers: { "accept-encoding": "gzip" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await res.text()).length).toBeGreaterThan(20_000); // fetch decompresses
  });

  it("pages: revalidated on every load, so a new build reaches players on reload", async () => {
    for (const path of ["/", "/index.html"]) {
      const res = await fetch(`${built}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
  });

  it("no build: / says what to run instead of a bare 404", async () => {
    const res = await fetch(`${missing}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/not built.*\n.*npm run build/);
    expect((await fetch(`${missing}/nothing-here.js`)).status).toBe(404);
  });
});
