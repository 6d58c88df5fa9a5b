import { fileURLToPath } from "node:url";
import { type ProxyOptions, defineConfig } from "vite";

// The browser client. `npm run dev` serves it with hot reload on :5173 (VITE_PORT) next to
// the game server on :2567 (PORT), and forwards the game's routes and room sockets to it, so
// the page talks to its own origin; `npm start` builds it into client/dist, which the game
// server serves.
const gameServer = `http://127.0.0.1:${process.env.PORT || 2567}`;
// Host stays the page's (no changeOrigin): the server's same-origin check of /monitor
// compares the browser's Origin with it.
const toGame: ProxyOptions = { target: gameServer, changeOrigin: false };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // The client's one way into the server's folders: src/shared (protocol, codes, movement,
  // vectors, schema, SDK helper). ESLint refuses any other path out of client/.
  resolve: { alias: { "@shared": fileURLToPath(new URL("../src/shared", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500, // Phaser alone is ~1.37 MB minified
    rolldownOptions: {
      // The MMO client, and the process-bridge example's page.
      input: { main: fileURLToPath(new URL("index.html", import.meta.url)), bunny: fileURLToPath(new URL("bunny.html", import.meta.url)) },
      output: {
        // Phaser in a chunk of its own, and the other libraries (the Colyseus SDK, schema) in
        // another: their hashed names change only when those packages do, so a browser keeps
        // them cached across releases of the game's own code.
        codeSplitting: {
          groups: [
            { name: "phaser", test: /node_modules[\\/]phaser[\\/]/, priority: 2 },
            { name: "vendor", test: /node_modules[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  server: {
    port: Number(process.env.VITE_PORT) || 5173,
    // A port that was asked for is that port or an error, never the next free one.
    strictPort: Boolean(process.env.VITE_PORT),
    proxy: {
      // Colyseus's HTTP routes (matchmaking) and the server's own.
      "/matchmake": toGame,
      "/monitor": toGame,
      "/playground": toGame,
      "/healthz": toGame,
      "/metrics": toGame,
      // A room's WebSocket: /<processId>/<roomId>?sessionId=... (@colyseus/sdk buildEndpoint).
      // Upgrades only: a plain request of that shape stays Vite's (bypass), and Vite's own HMR
      // socket (on "/", protocol vite-hmr) never matches.
      "^/[\\w-]+/[\\w-]+\\?": { ...toGame, ws: true, bypass: (req, res) => (res ? req.url : undefined) },
    },
  },
});
