// Lint: ESLint's recommended rules plus typescript-eslint's, on every TypeScript file, and the
// architecture's arrows (README "Architecture"): which folder may import which. The arrows are
// ESLint's own no-restricted-imports (no plugin, no resolver): every folder's rule names the
// folders it must not reach. test/boundaries.test.ts proves each rule fires.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** A relative or aliased import that reaches into one of `folders`. */
const into = (folders, message) => ({ regex: `(^|/)(${folders.join("|")})(/|$)`, message });

/** Colyseus internals: only src/framework/serializer/colyseusInternals.ts may touch them. */
const INTERNAL_SYMBOLS = {
  name: "@colyseus/schema",
  importNames: ["$changes", "$childType", "$refId", "$track", "$encoder", "$decoder", "$filter", "$getByIndex", "$deleteByIndex"],
  message: "Colyseus internals live behind one seam: src/framework/serializer/colyseusInternals.ts.",
};
const PRIVATE_FIELDS = {
  selector: "MemberExpression[property.name=/^(_serializer|_getActiveHandles|_getActiveRequests)$/]",
  message: "A private field of a dependency: go through src/framework/serializer/colyseusInternals.ts (or a public API).",
};

/** The no-restricted-imports rule for a folder: its forbidden arrows, plus the internals. */
const arrows = (patterns, paths = []) => ["error", { paths: [INTERNAL_SYMBOLS, ...paths], patterns }];

const SERVER_ONLY = ["@colyseus/core", "@colyseus/tools", "@colyseus/monitor", "@colyseus/playground", "ioredis", "express", "prom-client"];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "client/dist/", "packages/*/dist/", "test-artifacts/", "test/fixtures/lint/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ["scripts/**/*.mjs", "test/fixtures/**/*.mjs"], languageOptions: { globals: globals.node } },
  // CommonJS config files (pm2's ecosystem file must be CommonJS).
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: globals.node }, rules: { "@typescript-eslint/no-require-imports": "off" } },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": arrows([]),
      "no-restricted-syntax": ["error", PRIVATE_FIELDS],
    },
  },
  {
    // The AoI core: plain data structures, no networking.
    files: ["src/aoi/**"],
    rules: {
      "no-restricted-imports": arrows([
        { group: ["@colyseus/*"], message: "src/aoi imports no Colyseus: it is tested and benchmarked alone." },
        { regex: "^\\.\\./(?!shared/vector$)", message: "src/aoi may import only ../shared/vector outside itself." },
      ]),
    },
  },
  {
    // Runs in the browser too: nothing server-only, nothing of the server's folders.
    files: ["src/shared/**"],
    rules: {
      "no-restricted-imports": arrows(
        [into(["aoi", "framework", "regions", "game", "bridge", "ops", "client", "scripts", "test"], "src/shared is imported by the browser: it may import only src/shared."), { group: ["node:*"], message: "src/shared runs in the browser: no Node modules." }],
        SERVER_ONLY.map((name) => ({ name, message: "src/shared runs in the browser: no server-only package." })),
      ),
    },
  },
  {
    // Regions: pure pieces the framework's room drives (no room here, no operations).
    files: ["src/regions/**"],
    rules: {
      "no-restricted-imports": arrows([
        { regex: "^\\.\\./framework/(?!World$)", message: "src/regions is driven by MMORoom: of the framework it imports ../framework/World only." },
        into(["game", "bridge", "ops", "aoi", "client", "scripts", "test"], "src/regions is driven by MMORoom: it imports ../framework/World and ../shared only."),
      ]),
    },
  },
  {
    files: ["src/framework/**"],
    rules: { "no-restricted-imports": arrows([into(["game", "bridge", "client", "scripts", "test"], "The framework never imports a game, the bridge, the client or tools: they import it.")]) },
  },
  {
    // A game sees the framework's public surface (src/framework/index.ts) only.
    files: ["src/game/**"],
    rules: {
      "no-restricted-imports": arrows([
        { regex: "(^|/)framework/.", message: "A game imports the framework's public surface: \"../framework\" (src/framework/index.ts), not its internals." },
        into(["bridge", "ops", "aoi", "regions", "client", "scripts", "test"], "A game imports ../framework and ../shared only."),
      ]),
    },
  },
  {
    files: ["src/bridge/**"],
    rules: { "no-restricted-imports": arrows([into(["framework", "regions", "game", "aoi", "client", "scripts", "test"], "The process bridge stands alone: it may import ../ops and ../shared only.")]) },
  },
  {
    files: ["src/ops/**"],
    rules: { "no-restricted-imports": arrows([into(["framework", "regions", "game", "bridge", "aoi", "client", "scripts", "test"], "Operational code is imported by the others, never the other way round.")]) },
  },
  {
    // The browser client reaches the server's code through the @shared alias only.
    files: ["client/**"],
    rules: {
      "no-restricted-imports": arrows(
        [{ regex: "^(\\.\\./){2,}|(^|/)src/", message: "The client imports server code only through the @shared alias (src/shared)." }],
        SERVER_ONLY.map((name) => ({ name, message: "The client runs in the browser: no server-only package." })),
      ),
    },
  },
  { files: ["client/vite.config.ts"], rules: { "no-restricted-imports": "off" } },
  // The seam itself (last: it overrides the framework's rule).
  { files: ["src/framework/serializer/colyseusInternals.ts"], rules: { "no-restricted-imports": "off", "no-restricted-syntax": "off" } },
);
