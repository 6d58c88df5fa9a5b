import { freePort } from "./ports";
import { type StartOptions, startProcess } from "./process";

/** A redis-server of our own on a free 127.0.0.1 port, without persistence; stopped by PID. */
export async function startRedis(opts: Pick<StartOptions, "echo"> = {}): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const redis = await startProcess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    ready: "Ready to accept connections",
    readyMs: 10_000,
    echo: opts.echo,
  });
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => redis.stop() };
}
