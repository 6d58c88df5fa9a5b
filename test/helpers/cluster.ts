import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type ServerProcess, freePort, metricsText, startRedis, startServer, stopProcess } from "../../scripts/lib";

export { freePort, metricsText, startRedis, stopProcess };

export type GameProcess = ServerProcess;

/** One game server process (`src/index.ts`) on Redis (or none with ""), with its own port and public address. */
export async function startGameProcess(redisUrl: string, env: Record<string, string> = {}): Promise<GameProcess> {
  const port = await freePort();
  return startServer({
    port,
    env: {
      REDIS_URL: redisUrl,
      PUBLIC_ADDRESS: `127.0.0.1:${port}`,
      IDENTITY_SECRET: "cluster-test-secret-of-at-least-32-bytes",
      MMO_DATA_DIR: join(tmpdir(), "mmo-cluster-test-data"),
      GAME_GEMS: "5",
      GAME_NPCS: "1",
      ...env,
    },
  });
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
  const text = await metricsText(endpoint);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.trim().split(" ").pop()) : Number.NaN;
}
