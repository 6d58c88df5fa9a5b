import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The browser client. `npm run dev` serves it with hot reload on :5173 and talks to a game
// server on :2567; `npm start` builds it into client/dist, which the game server serves.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // The client's one way into the server's folders: src/shared (protocol, codes, movement,
  // vectors, schema, SDK helper). ESLint refuses any other path out of client/.
  resolve: { alias: { "@shared": fileURLToPath(new URL("../src/shared", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500, // Phaser alone is ~1.4 MB minified
    rollupOptions: {
      // The MMO client, and the process-bridge example's page.
      input: { main: fileURLToPath(new URL("index.html", import.meta.url)), bunny: fileURLToPath(new URL("bunny.html", import.meta.url)) },
    },
  },
  server: { port: 5173 },
});
