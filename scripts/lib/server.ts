import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";
import { type ManagedProcess, type StartOptions, startProcess, tsx } from "./process";

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
   * true (default, for tests and measurements): production mode, a fresh data directory and
   * a known monitor password. false: only `env` and this process's environment (operators).
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
    ...(isolated && { NODE_ENV: "production", MONITOR_PASSWORD: "test", MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-data-")) }),
    ...opts.env,
  };
  const proc = await startProcess(node, [...(opts.nodeArgs ?? []), ...args], { env, ready: "Listening on", readyMs: opts.readyMs, echo: opts.echo });
  return Object.assign(proc, { port, endpoint: `http://127.0.0.1:${port}`, dataDir: env.MMO_DATA_DIR ?? process.env.MMO_DATA_DIR ?? "data" });
}
