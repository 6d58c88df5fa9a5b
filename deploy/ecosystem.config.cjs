// pm2: `npm run build`, then `pm2 start deploy/ecosystem.config.cjs` (then `pm2 save`), one
// entry per process so each gets its own port and public address. The app is the checkout
// this file lives in (its deploy/ folder's parent), installed with `npm install --omit=dev`
// (or `npm ci --omit=dev`): that brings the optional node@22 package, node_modules/node/bin/node,
// which runs the built server when the machine's own Node is older.
//
// The built server (dist/server/index.js) runs on Node 22 directly: no tsx, no npm in between
// (an `npm start` under pm2 would add a process that relays signals).
//
// Stopping: pm2 sends one SIGINT (its default; PM2_KILL_SIGNAL on the pm2 daemon changes it),
// which drains exactly like SIGTERM: /healthz answers 503, rooms send server_shutdown, run
// MMO_DRAIN_SECONDS, save the world, close with 4001, and the process exits 0. pm2 sends
// SIGKILL after `kill_timeout`: keep it well above the drain. test/pm2.test.ts runs this file
// (one process, its own port) and stops it with `pm2 stop`.
const { existsSync } = require("node:fs");
const { resolve } = require("node:path");

const root = resolve(__dirname, "..");
const drainSeconds = 10; // MMO_DRAIN_SECONDS (the server's default)
// node@22 from node_modules when installed, else the machine's `node` (which must be 22).
const node22 = `${root}/node_modules/node/bin/node`;

module.exports = {
  apps: [1, 2, 3].map((i) => ({
    name: `mmo-${i}`,
    cwd: root,
    script: "dist/server/index.js",
    // An absolute path: pm2 looks a relative interpreter up from the directory `pm2 start`
    // runs in, not from `cwd`.
    interpreter: existsSync(node22) ? node22 : "node",
    // One process per entry (cluster mode would share one port between workers, and each
    // process needs its own public address). @colyseus/tools adds NODE_APP_INSTANCE (0 here)
    // to PORT.
    exec_mode: "fork",
    instances: 1,
    // The signal goes to the server only, not to the process bridge's backends (their rooms
    // stop them while draining).
    treekill: false,
    kill_timeout: (drainSeconds + 20) * 1000,
    // @colyseus/tools sends "ready" once the server listens: `pm2 start`/`pm2 reload` wait for it.
    wait_ready: true,
    listen_timeout: 30_000,
    env: {
      NODE_ENV: "production",
      PORT: 2567 + i,
      REDIS_URL: "redis://127.0.0.1:6379",
      PUBLIC_ADDRESS: `game.example.com/p${i}`,
      MMO_DRAIN_SECONDS: drainSeconds,
      // IDENTITY_SECRET (required with Redis: every process signs identities alike),
      // METRICS_TOKEN (required in production, or METRICS_PUBLIC=1) and MONITOR_PASSWORD (at
      // least 16 characters): exported in the shell that runs `pm2 start`, which pm2 passes
      // on; kept out of this file.
    },
  })),
};
