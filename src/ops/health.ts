import type { Presence } from "@colyseus/core";

/** True when presence (Redis) answers within `ms`: a process that lost Redis cannot matchmake. */
export async function redisReachable(presence: Presence, ms = 1000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.resolve(presence.exists("mmo:healthz")).then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
