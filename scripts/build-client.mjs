// Builds the browser client into client/dist when any of its sources is newer than the
// build (or there is no build), so `npm start` always serves the current client.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = join(root, "client/dist/index.html");
// The client and the one server folder it may import (src/shared, through the `@shared`
// alias; ESLint refuses any other way out of client/).
const sources = ["client/index.html", "client/bunny.html", "client/vite.config.ts", "client/src", "src/shared", "package.json"];

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const stale = !existsSync(built) || Math.max(...sources.map((s) => newest(join(root, s)))) > statSync(built).mtimeMs;
if (stale || process.argv.includes("--force")) {
  console.log("Building the client (client/dist)...");
  execFileSync(join(root, "node_modules/.bin/vite"), ["build", "--config", "client/vite.config.ts", "--logLevel", "warn"], {
    cwd: root,
    stdio: "inherit",
  });
} else {
  console.log("client/dist is up to date.");
}
