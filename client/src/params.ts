import { DEFAULT_WORLD } from "@shared/protocol";

/** What the page's URL asks for: `/?world=forest&name=Ada` (and `x`, `y` for a chosen entry point). */
export interface PageParams {
  world: string;
  /** The URL names no world: the page opens on the world picker (client/src/picker.ts). */
  pick: boolean;
  name?: string;
  /** A start position; without it the server picks a free spot (`spawn`). */
  start?: { x: number; y: number };
  /** `region=1_0`: a region room of a split world to join (default: the entry region; a handoff moves the player on anyway). */
  region?: string;
}

export function readParams(search: string = location.search): PageParams {
  const q = new URLSearchParams(search);
  const world = (q.get("world") ?? "").trim() || DEFAULT_WORLD;
  const name = q.get("name")?.trim() || undefined;
  const x = Number(q.get("x"));
  const y = Number(q.get("y"));
  const start = q.has("x") && q.has("y") && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : undefined;
  const region = q.get("region")?.trim() || undefined;
  return { world, pick: !(q.get("world") ?? "").trim(), name, start, ...(region && { region }) };
}

/**
 * The game server: VITE_GAME_SERVER when the build names one, otherwise the page's own
 * origin: the game server itself (`npm start`), a front door in front of it, or Vite's dev
 * server (`npm run dev`), which forwards matchmaking and room sockets to the game server
 * (client/vite.config.ts).
 */
export function serverEndpoint(): string {
  const fromEnv = import.meta.env.VITE_GAME_SERVER as string | undefined;
  if (fromEnv) return fromEnv;
  return `${location.protocol}//${location.host}`;
}
