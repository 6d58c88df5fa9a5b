// `npm run cluster -- --processes 3 [--port 2567]`: a local cluster on Colyseus's own
// distributed engine. Redis (REDIS_URL, or a redis-server started here on a free port),
// N game server processes each with its own public address, and nginx as the front door
// on one port. Ctrl-C stops everything it started.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envCount, envString } from "../src/ops/env";
import { type ManagedProcess, ROOT as root, cliOptions, ensureDebianPackage, startProcess, startRedis, startServer } from "./lib";

// Environment variables are read with the server's own readers (src/ops/env.ts).
const opts = cliOptions(process.argv.slice(2), { numbers: { processes: 3, port: envCount(process.env, "PORT") ?? 2567 } });
const { processes } = opts;
const front = opts.port;
const host = envString(process.env, "PUBLIC_HOST") ?? "localhost";
const NGINX = "/usr/sbin/nginx";
/** Everything started here, oldest first; stopped newest first. */
const children: Array<{ name: string; stop(): Promise<void> }> = [];
const runtime = mkdtempSync(join(tmpdir(), "mmo-cluster-"));
const prefixed = (name: string) => (line: string) => line.trim() && console.log(`[${name}] ${line}`);

/** Remembers a started child, and reports it if it exits while the cluster runs. */
function track(name: string, p: ManagedProcess): void {
  children.push({ name, stop: () => p.stop("SIGTERM", 20_000) });
  void p.exited.then((code) => !stopping && console.log(`[${name}] exited with ${code}`));
}

let stopping = false;
async function stopAll(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log("Stopping the cluster...");
    // Newest first: nginx, the game processes (they drain), then Redis.
    for (const child of [...children].reverse()) await child.stop();
    rmSync(runtime, { recursive: true, force: true });
  }
  process.exit(code);
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stopAll());
  process.on("SIGTERM", () => void stopAll());
  ensureDebianPackage(NGINX, "nginx");
  execFileSync(process.execPath, ["scripts/build-client.mjs"], { cwd: root, stdio: "inherit" });

  let redisUrl = envString(process.env, "REDIS_URL");
  if (!redisUrl) {
    const redis = await startRedis({ echo: prefixed("redis") });
    children.push({ name: "redis", stop: redis.stop });
    redisUrl = redis.url;
  }

  const identitySecretForCluster = envString(process.env, "IDENTITY_SECRET") ?? randomBytes(32).toString("base64url");
  const ports: number[] = [];
  const pids: number[] = [];
  for (let i = 1; i <= processes; i++) {
    const game = await startServer({
      isolated: false,
      echo: prefixed(`p${i}`),
      env: {
        // Every process must sign and check guest identities with the same secret.
        IDENTITY_SECRET: identitySecretForCluster,
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
  children.push({ name: "nginx", stop: () => nginx.stop() });
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
  console.log(`CLUSTER READY: http://${host}:${front}/ -> ${list}; Redis ${redisUrl}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  void stopAll(1);
});
