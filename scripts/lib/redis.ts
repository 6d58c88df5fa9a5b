import { freePort } from "./ports";
import { type StartOptions, startProcess } from "./process";

/**
 * A redis-server of our own on a free 127.0.0.1 port, without persistence; stopped by PID.
 * `detached`: in its own process group, so a terminal's Ctrl-C (SIGINT to the foreground
 * group) does not reach it, and it outlives the processes that still write to it.
 */
export async function startRedis(opts: Pick<StartOptions, "echo" | "detached"> = {}): Promise<{ url: string; port: number; pid: number; stop(): Promise<void>; kill(): void }> {
  const port = await freePort();
  const redis = await startProcess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    ready: "Ready to accept connections",
    readyMs: 10_000,
    echo: opts.echo,
    detached: opts.detached,
  });
  return { url: `redis://127.0.0.1:${port}`, port, pid: redis.child.pid!, stop: () => redis.stop(), kill: () => void redis.child.kill("SIGKILL") };
}
