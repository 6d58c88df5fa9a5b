import type { Vec3 } from "../../shared/vector";

/** A saved item: its public and hidden (server-only, JSON-serialisable) variables. */
export interface SavedItem {
  id: string;
  kind: string;
  x: number;
  y: number;
  z: number;
  vars: Record<string, string>;
  hidden: Record<string, unknown>;
}

/** What a returning player gets back: where they were and their variables (score included). */
export interface SavedPlayer extends Vec3 {
  name: string;
  vars: Record<string, string>;
  /** When the player was last seen (ms since epoch): the oldest are forgotten first. */
  seenAt: number;
}

/** Returning players a world remembers at most; beyond, the least recently seen go. */
export const MAX_SAVED_PLAYERS = 20_000;

/** Everything a world keeps across rooms, restarts and moves between processes. */
export interface WorldSnapshot {
  version: 1;
  savedAt: number;
  nextItemId: number;
  items: SavedItem[];
  /** By player identity (not session). */
  players: Record<string, SavedPlayer>;
}

/** Where worlds are kept. Implementations: a file per world, or Redis. */
export interface WorldStore {
  load(world: string): Promise<WorldSnapshot | undefined>;
  save(world: string, snapshot: WorldSnapshot): Promise<void>;
  close?(): Promise<void>;
}

/** Reads a stored snapshot, or undefined if it is not one (a damaged file is not fatal). */
export function parseSnapshot(text: string): WorldSnapshot | undefined {
  try {
    const s = JSON.parse(text) as WorldSnapshot;
    if (s?.version !== 1 || !Array.isArray(s.items) || typeof s.players !== "object" || s.players === null) return undefined;
    return s;
  } catch {
    return undefined;
  }
}
