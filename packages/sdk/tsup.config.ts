import { defineConfig } from "tsup";

// @colyseus-mmo/sdk: src/shared/sdk's entry (with the schema classes, message types and codes
// it re-exports) as one ESM file and one bundled .d.ts. The schema's decorators are compiled
// away (tsconfig.json: experimentalDecorators, useDefineForClassFields false, as the server
// compiles them); @colyseus/sdk and @colyseus/schema stay imports (peer dependencies: the
// app's single copy decodes the state).
export default defineConfig({
  entry: { index: "../../src/shared/sdk/index.ts" },
  outDir: "dist",
  format: ["esm"],
  platform: "neutral",
  target: "es2022",
  tsconfig: "tsconfig.json",
  dts: true,
  clean: true,
  external: ["@colyseus/sdk", "@colyseus/schema"],
});
