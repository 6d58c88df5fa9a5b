/* global module */
// pm2: `pm2 start deploy/ecosystem.config.cjs` (then `pm2 save`), one entry per process so each
// gets its own port and public address. The checkout lives in /srv/mmo, installed with
// `npm ci` (with the dev dependencies: the project's Node 22 is the `node` package).
//
// Node 22 runs the server directly, with tsx as a loader inside it (`--import tsx`): no `tsx`
// CLI in between, whose `#!/usr/bin/env node` would pick the system Node and which relays
// every signal it gets, so the server would get each one twice.
//
// Stopping: pm2 sends one SIGINT (its default; PM2_KILL_SIGNAL on the pm2 daemon changes it),
// which drains exactly like SIGTERM: /healthz answers 503, rooms send server_shutdown, run
// MMO_DRAIN_SECONDS, save the world, close with 4001, and the process exits 0. pm2 sends
// SIGKILL after `kill_timeout`: keep it well above the drain.

const root = "/srv/mmo";
const drainSeconds = 10; // MMO_DRAIN_SECONDS (the server's default)

module.exports = {
  apps: [1, 2, 3].map((i) => ({
    name: `mmo-${i}`,
    cwd: root,
    script: "src/index.ts",
    // An absolute path to ./node_modules/node/bin/node: pm2 looks a relative interpreter up
    // from the directory `pm2 start` runs in, not from `cwd`.
    interpreter: `${root}/node_modules/node/bin/node`,
    node_args: "--import tsx",
    // One process per entry (cluster mode would share one port between workers, and each
    // process needs its own public address). @colyseus/tools adds NODE_APP_INSTANCE (0 here)
    // to PORT.
    exec_mode: "fork",
    instances: 1,
    // The signal goes to the server only, not to the process bridge's backends (their rooms
    // stop them while draining).
    treekill: false,
    kill_timeout: (drainSeconds + 20) * 1000,
    // @colyseus/tools sends "ready" once the server listens: `pm2 reload` waits for it.
    wait_ready: true,
    listen_timeout: 30_000,
    env: {
      NODE_ENV: "production",
      PORT: 2567 + i,
      REDIS_URL: "redis://127.0.0.1:6379",
      PUBLIC_ADDRESS: `game.example.com/p${i}`,
      MMO_DRAIN_SECONDS: drainSeconds,
    },
  })),
};
