// `npm run build`: everything production runs, compiled.
//
//   server  src/index.ts + arena.config.ts -> dist/server/index.js (and the ScaleSocket
//           command line -> dist/server/scalesocket.js), one ESM file each, by esbuild;
//   client  client/ -> client/dist, by Vite;
//   sdk     src/shared/sdk -> packages/sdk/dist (its own tsup build), when that workspace exists.
//
// `node scripts/build.mjs --if-stale [server] [client]` builds only what is older than its
// sources (`npm start` does this before running the server). Without target names: all.
//
// Why esbuild for the server: the sources use extensionless relative imports (TypeScript's
// "Bundler" resolution), which `tsc` would emit unchanged and Node's ESM loader refuses;
// esbuild resolves them into one file, reads the decorator settings from tsconfig.json, and
// is the compiler tsx already runs the sources with in development, so the build behaves like
// the sources. Dependencies stay external (`packages: "external"`): node_modules is installed
// next to the build, as `npm install --omit=dev` leaves it. Types are checked by
// `npm run typecheck`, not here.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const ifStale = args.includes("--if-stale");
const named = args.filter((a) => !a.startsWith("--"));
const wanted = (target) => named.length === 0 || named.includes(target);

/** Newest modification time under `paths` (files or folders), 0 for what does not exist. */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    const full = join(root, p);
    if (!existsSync(full)) continue;
    const st = statSync(full);
    t = Math.max(t, st.mtimeMs);
    if (st.isDirectory()) t = Math.max(t, newest(readdirSync(full).map((f) => join(p, f))));
  }
  return t;
}

/** True when `output` is missing or older than any of `sources`. */
function stale(output, sources) {
  const out = join(root, output);
  return !existsSync(out) || newest(sources) > statSync(out).mtimeMs;
}

const targets = {
  server: {
    output: "dist/server/index.js",
    sources: ["src", "arena.config.ts", "tsconfig.json", "package.json"],
    async build() {
      const { build } = await import("esbuild");
      await build({
        absWorkingDir: root,
        entryPoints: { index: "src/index.ts", scalesocket: "src/bridge/scalesocket/main.ts" },
        outdir: "dist/server",
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node22",
        packages: "external",
        // The entry points only check the Node version, then import the server: a chunk of
        // its own, so no dependency is even loaded on an old Node.
        splitting: true,
        chunkNames: "chunks/[name]-[hash]",
        tsconfig: "tsconfig.json",
        sourcemap: true,
        logLevel: "warning",
      });
    },
  },
  client: {
    output: "client/dist/index.html",
    // The client and the one server folder it may import (src/shared, through `@shared`).
    sources: ["client/index.html", "client/bunny.html", "client/vite.config.ts", "client/src", "src/shared", "package.json"],
    async build() {
      execFileSync(join(root, "node_modules/.bin/vite"), ["build", "--config", "client/vite.config.ts", "--logLevel", "warn"], { cwd: root, stdio: "inherit" });
    },
  },
  sdk: {
    output: "packages/sdk/dist/index.js",
    sources: ["src/shared", "packages/sdk/package.json", "packages/sdk/tsup.config.ts"],
    async build() {
      if (!existsSync(join(root, "packages/sdk/tsup.config.ts"))) return;
      execFileSync(join(root, "node_modules/.bin/tsup"), [], { cwd: join(root, "packages/sdk"), stdio: "inherit" });
    },
  },
};

// `--if-stale` (npm start) never builds the SDK: the server does not need it.
const order = ifStale ? ["server", "client"] : ["server", "client", "sdk"];
for (const name of order) {
  if (!wanted(name)) continue;
  const target = targets[name];
  if (ifStale && !stale(target.output, target.sources)) {
    console.log(`${target.output} is up to date.`);
    continue;
  }
  console.log(`Building the ${name} (${target.output})...`);
  await target.build();
}
