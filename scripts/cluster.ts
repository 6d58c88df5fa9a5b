// `npm run cluster -- --processes 3 [--port 2567]`: a local cluster on Colyseus's own
// distributed engine. Redis (REDIS_URL, or a redis-server started here on a free port),
// N game server processes each with its own public address, and nginx as the front door
// on one port. Ctrl-C stops everything it started.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, numberOption } from "./lib";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => numberOption(argv, name, fallback);
const processes = opt("processes", 3);
const front = opt("port", Number(process.env.PORT ?? 2567));
const host = process.env.PUBLIC_HOST ?? "localhost";
const NGINX = "/usr/sbin/nginx";
const children: ChildProcess[] = [];
const runtime = mkdtempSync(join(tmpdir(), "mmo-cluster-"));


/** Starts a child whose output lines are prefixed; resolves when a line contains `ready`. */
function start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let done = false;
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        console.log(`[${name}] ${line}`);
        if (!done && line.includes(ready)) {
          done = true;
          resolve(child);
        }
      }
    };
    child.stdout!.on("data", onLine);
    child.stderr!.on("data", onLine);
    child.once("exit", (code) => {
      if (!done) reject(new Error(`${name} exited with ${code} before it was ready`));
      else if (!stopping) console.log(`[${name}] exited with ${code}`);
    });
  });
}

function ensureNginx(): void {
  if (existsSync(NGINX)) return;
  const install = "apt-get update && apt-get install -y nginx";
  if (process.getuid?.() !== 0) throw new Error(`nginx is missing. Install it with: sudo sh -c '${install}'`);
  console.log(`nginx is missing: running "${install}"`);
  execFileSync("sh", ["-c", `${install} > ${join(runtime, "apt.log")} 2>&1`], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

let stopping = false;
async function stopAll(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log("Stopping the cluster...");
    // Newest first: nginx, the game processes (they drain), then Redis.
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(runtime, { recursive: true, force: true });
  }
  process.exit(code);
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void stopAll());
  process.on("SIGTERM", () => void stopAll());
  ensureNginx();
  execFileSync(process.execPath, ["scripts/build-client.mjs"], { cwd: root, stdio: "inherit" });

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const port = await freePort();
    await start("redis", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {}, "Ready to accept");
    redisUrl = `redis://127.0.0.1:${port}`;
  }

  const identitySecretForCluster = process.env.IDENTITY_SECRET || randomBytes(32).toString("base64url");
  const ports: number[] = [];
  const pids: number[] = [];
  for (let i = 1; i <= processes; i++) {
    const port = await freePort();
    ports.push(port);
    const child = await start(`p${i}`, process.execPath, ["--import", "tsx", "src/index.ts"], {
      // Every process must sign and check guest identities with the same secret.
      IDENTITY_SECRET: identitySecretForCluster,
      PORT: String(port),
      REDIS_URL: redisUrl,
      PUBLIC_ADDRESS: `${host}:${front}/p${i}`,
    }, "Listening on");
    pids.push(child.pid!);
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
  const nginx = spawn(NGINX, ["-c", confFile, "-p", runtime], { stdio: ["ignore", "inherit", "inherit"] });
  children.push(nginx);
  nginx.once("exit", (code) => {
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
