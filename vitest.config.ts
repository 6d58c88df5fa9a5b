import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The browser client's alias (client/vite.config.ts), so unit tests can import its pure parts.
  resolve: { alias: { "@shared": fileURLToPath(new URL("./src/shared", import.meta.url)) } },
  test: {
    // Every suite boots a real server; run files one at a time on this 2-core machine.
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: "unit+room", include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
      },
      {
        extends: true,
        // Browser tests: Chromium and the built client are made ready first (never skipped).
        test: { name: "browser", include: ["test/e2e/**/*.test.ts"], globalSetup: ["test/e2e/globalSetup.ts"], testTimeout: 60_000 },
      },
    ],
  },
});
