import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";
import { type ManagedProcess, type StartOptions, startProcess, tsx } from "./process";

/**
 * What an isolated server (production mode) is started with: a monitor password long enough
 * for production (16 characters at least) and a /metrics token, which production requires.
 */
export const TEST_MONITOR_PASSWORD = "test-monitor-password";
export const TEST_METRICS_TOKEN = "test-metrics-token";

/** A server's /metrics text, with the bearer token isolated servers are started with. */
export async function metricsText(endpoint: string, token = TEST_METRICS_TOKEN): Promise<string> {
  const res = await fetch(`${endpoint}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${endpoint}/metrics answered ${res.status}`);
  return res.text();
}

/** One metric's value (the first series of that name) from a server's /metrics; NaN when absent. */
export async function metricValue(endpoint: string, name: string): Promise<number> {
  const line = (await metricsText(endpoint)).split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.trim().split(" ").pop()) : Number.NaN;
}

/** A server's resident memory in MB, from its own metrics. */
export async function residentMB(endpoint: string): Promise<number> {
  return (await metricValue(endpoint, "mmo_node_process_resident_memory_bytes")) / 2 ** 20;
}

/** A game server process (`src/index.ts`) on its own port. */
export interface ServerProcess extends ManagedProcess {
  port: number;
  endpoint: string;
  /** Its MMO_DATA_DIR (world files, identity key). */
  dataDir: string;
}

export interface ServerOptions extends Pick<StartOptions, "echo" | "readyMs"> {
  /** Variables on top of the defaults below (and of this process's environment). */
  env?: Record<string, string>;
  /** Extra Node flags, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  port?: number;
  /**
   * true (default, for tests and measurements): production mode, a fresh data directory, a
   * known monitor password and metrics token (TEST_MONITOR_PASSWORD, TEST_METRICS_TOKEN). false: only `env` and this process's environment (operators).
   */
  isolated?: boolean;
}

/**
 * Starts `src/index.ts` on a free port (or `port`) and waits until it listens. Isolated (the
 * default): as operators run it (NODE_ENV=production), with a fresh data directory and a
 * known monitor password. `env` adds to or overrides those.
 */
export async function startServer(opts: ServerOptions = {}): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const [node, args] = tsx("src/index.ts");
  const isolated = opts.isolated ?? true;
  const env = {
    PORT: String(port),
    ...(isolated && { NODE_ENV: "production", MONITOR_PASSWORD: TEST_MONITOR_PASSWORD, METRICS_TOKEN: TEST_METRICS_TOKEN, MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-data-")) }),
    ...opts.env,
  };
  const proc = await startProcess(node, [...(opts.nodeArgs ?? []), ...args], { env, ready: "Listening on", readyMs: opts.readyMs, echo: opts.echo });
  return Object.assign(proc, { port, endpoint: `http://127.0.0.1:${port}`, dataDir: env.MMO_DATA_DIR ?? process.env.MMO_DATA_DIR ?? "data" });
}
