// `npm run cluster -- --processes 3 [--port 2567]`: a local cluster on Colyseus's own
// distributed engine. Redis (REDIS_URL, or a redis-server started here on a free port),
// N game server processes each with its own public address, and nginx as the front door
// on one port. One /monitor password for all of them (MONITOR_PASSWORD, or one generated
// here and printed once). Ctrl-C stops everything it started: the game processes drain
// (their worlds' last snapshots go to Redis), and only then does Redis stop.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SAME_CTRL_C_MS } from "../src/ops/drain";
import { envCount, envNumber, envString } from "../src/ops/env";
import { type ManagedProcess, ROOT as root, cliOptions, ensureDebianPackage, startProcess, startRedis, startServer } from "./lib";

// Environment variables are read with the server's own readers (src/ops/env.ts).
const opts = cliOptions(process.argv.slice(2), { numbers: { processes: 3, port: envCount(process.env, "PORT") ?? 2567 } });
const { processes } = opts;
const front = opts.port;
const host = envString(process.env, "PUBLIC_HOST") ?? "localhost";
const NGINX = "/usr/sbin/nginx";
/** A game process drains for MMO_DRAIN_SECONDS (default 10) before it exits: wait that and a margin. */
const gameGraceMs = ((envNumber(process.env, "MMO_DRAIN_SECONDS") ?? 10) + 20) * 1000;
/** What was started here, by role: stopped nginx first, then the game processes (at once), then Redis. */
const started: { nginx?: ManagedProcess; games: Array<{ name: string; p: ManagedProcess }>; redis?: Awaited<ReturnType<typeof startRedis>> } = { games: [] };
const runtime = mkdtempSync(join(tmpdir(), "mmo-cluster-"));
const prefixed = (name: string) => (line: string) => line.trim() && console.log(`[${name}] ${line}`);

/** Remembers a started game process, and reports it if it exits while the cluster runs. */
function track(name: string, p: ManagedProcess): void {
  started.games.push({ name, p });
  void p.exited.then((code) => !stopping && console.log(`[${name}] exited with ${code}`));
}

let stopping: Promise<void> | undefined;
let stopSignalAt = 0;

async function stopEverything(): Promise<void> {
  console.log("Stopping the cluster: the game processes drain, then Redis stops...");
  await started.nginx?.stop();
  // A terminal's Ctrl-C reached the game processes already (they drain at once); SIGTERM
  // is for a stop from elsewhere, and a repeat is ignored by a draining process.
  await Promise.all(started.games.map(({ p }) => p.stop("SIGTERM", gameGraceMs)));
  if (started.redis) {
    console.log("The game processes have exited: stopping Redis.");
    await started.redis.stop();
  }
  rmSync(runtime, { recursive: true, force: true });
}

async function stopAll(code = 0): Promise<never> {
  stopping ??= stopEverything();
  await stopping;
  process.exit(code);
}

/**
 * The first SIGINT/SIGTERM stops the cluster in order. One Ctrl-C arrives more than once (the
 * terminal signals the whole foreground group, npm and the tsx CLI relay it): repeats within
 * SAME_CTRL_C_MS are that one. A second Ctrl-C after it stops now: the game processes got
 * it too (they exit without finishing their drain), Redis is killed.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (!stopping) {
    stopSignalAt = Date.now();
    void stopAll();
    return;
  }
  if (signal !== "SIGINT" || Date.now() - stopSignalAt < SAME_CTRL_C_MS) return;
  console.log("Second Ctrl-C: stopping now, without waiting for the drain.");
  for (const { p } of started.games) p.child.kill("SIGKILL");
  started.nginx?.child.kill("SIGKILL");
  started.redis?.kill();
  rmSync(runtime, { recursive: true, force: true });
  process.exit(130);
}

async function main(): Promise<void> {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Redis is in a process group of its own: whatever ends this script, it goes too.
  process.on("exit", () => started.redis?.kill());
  ensureDebianPackage(NGINX, "nginx");
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale", "client"], { cwd: root, stdio: "inherit" });

  let redisUrl = envString(process.env, "REDIS_URL");
  if (!redisUrl) {
    // Detached: a terminal's Ctrl-C must not stop Redis while the game processes drain into it.
    started.redis = await startRedis({ echo: prefixed("redis"), detached: true });
    redisUrl = started.redis.url;
  }

  const identitySecretForCluster = envString(process.env, "IDENTITY_SECRET") ?? randomBytes(32).toString("base64url");
  // One monitor password for every process: the front door sends /monitor to any of them.
  const monitorUser = envString(process.env, "MONITOR_USER") ?? "admin";
  const givenMonitorPassword = envString(process.env, "MONITOR_PASSWORD");
  const monitorPassword = givenMonitorPassword ?? randomBytes(18).toString("base64url");
  const ports: number[] = [];
  const pids: number[] = [];
  for (let i = 1; i <= processes; i++) {
    const game = await startServer({
      isolated: false,
      echo: prefixed(`p${i}`),
      env: {
        // Every process must sign and check guest identities with the same secret.
        IDENTITY_SECRET: identitySecretForCluster,
        MONITOR_PASSWORD: monitorPassword,
        // nginx in front adds X-Forwarded-For: per-IP limits apply to the real client.
        TRUST_PROXY: "1",
        REDIS_URL: redisUrl,
        PUBLIC_ADDRESS: `${host}:${front}/p${i}`,
      },
    });
    track(`p${i}`, game);
    ports.push(game.port);
    pids.push(game.child.pid!);
  }

  for (const dir of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(runtime, dir), { recursive: true });
  const conf = readFileSync(join(root, "deploy/nginx.conf.template"), "utf8")
    .replaceAll("{{RUNTIME}}", runtime)
    .replace("{{LISTEN}}", String(front))
    .replace("{{UPSTREAM_SERVERS}}", ports.map((p) => `    server 127.0.0.1:${p};`).join("\n"))
    .replace(
      "{{PROCESS_LOCATIONS}}",
      ports
        .map(
          (p, i) => `    location /p${i + 1}/ {
      proxy_pass http://127.0.0.1:${p}/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
    }
`,
        )
        .join(""),
    );
  const confFile = join(runtime, "nginx.conf");
  writeFileSync(confFile, conf);
  const nginx = await startProcess(NGINX, ["-c", confFile, "-p", runtime], { echo: prefixed("nginx") });
  started.nginx = nginx;
  void nginx.exited.then((code) => {
    if (!stopping) {
      console.error(`nginx exited with ${code}`);
      void stopAll(1);
    }
  });
  // nginx prints nothing when it is up: wait for its port.
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${front}/healthz`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const list = ports.map((p, i) => `p${i + 1} port ${p} pid ${pids[i]}`).join(", ");
  const monitorLogin = givenMonitorPassword ? "the password in MONITOR_PASSWORD" : `password "${monitorPassword}" (generated; set MONITOR_PASSWORD to choose one)`;
  console.log(`/monitor: http://${host}:${front}/monitor/ user "${monitorUser}", ${monitorLogin}`);
  console.log(`CLUSTER READY: http://${host}:${front}/ -> ${list}; Redis ${redisUrl}${started.redis ? ` (pid ${started.redis.pid})` : ""}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  void stopAll(1);
});
