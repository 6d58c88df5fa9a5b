import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { freePort } from "../../scripts/lib";

export { freePort };

const root = fileURLToPath(new URL("../..", import.meta.url));


/** Resolves when `child` prints a line containing `text`; rejects if it exits first or after `ms`. */
function waitForLine(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms:\n${seen.slice(-2000)}`)), ms);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (seen += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${text}":\n${seen.slice(-2000)}`));
    });
  });
}

/** A redis-server of the test's own, on a free port, stopped by PID. */
export async function startRedis(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForLine(child, "Ready to accept connections", 10_000);
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopProcess(child) };
}

export interface GameProcess {
  port: number;
  endpoint: string;
  child: ChildProcess;
  /** Everything the process printed. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** One game server process (`src/index.ts`) on Redis, with its own port and public address. */
export async function startGameProcess(redisUrl: string, env: Record<string, string> = {}): Promise<GameProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      REDIS_URL: redisUrl,
      PUBLIC_ADDRESS: `127.0.0.1:${port}`,
      IDENTITY_SECRET: "cluster-test-secret",
      MMO_DATA_DIR: join(tmpdir(), "mmo-cluster-test-data"),
      MONITOR_PASSWORD: "cluster-test",
      NODE_ENV: "production",
      GAME_GEMS: "5",
      GAME_NPCS: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await waitForLine(child, "Listening on", 30_000);
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    stop: (signal: NodeJS.Signals = "SIGTERM") => stopProcess(child, signal),
  };
}

/** Sends `signal`, waits for the exit, and SIGKILLs after 15 s. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The public address of the process hosting `roomId`, read from the Redis matchmaking cache. */
export async function hostOf(redisUrl: string, roomId: string): Promise<string | undefined> {
  const redis = new Redis(redisUrl);
  try {
    const raw = await redis.hget("roomcaches", roomId);
    return raw ? (JSON.parse(raw) as { publicAddress?: string }).publicAddress : undefined;
  } finally {
    redis.disconnect();
  }
}

/** One metric's value from a /metrics text (the first series of that name). */
export async function metric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.trim().split(" ").pop()) : Number.NaN;
}
