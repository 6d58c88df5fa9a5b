import type { VarValue } from "../../shared/wire";
import type { Vec3 } from "../../shared/vector";

/** A saved item: its public and hidden (server-only, JSON-serialisable) variables. */
export interface SavedItem {
  id: string;
  kind: string;
  x: number;
  y: number;
  z: number;
  /** Typed (JSON keeps them: 250 stays a number, true a boolean); older snapshots hold strings. */
  vars: Record<string, VarValue>;
  hidden: Record<string, unknown>;
  /** Its own visibility range (`setVisibilityRange`), when it has one. */
  range?: Vec3;
}

/** What a returning player gets back: where they were and their variables (score included). */
export interface SavedPlayer extends Vec3 {
  name: string;
  vars: Record<string, VarValue>;
  /** Private user variables (absent: none). */
  privateVars?: Record<string, VarValue>;
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
  /** Room Variables (absent in older snapshots). */
  roomVars?: Record<string, VarValue>;
  /** By player identity (not session). */
  players: Record<string, SavedPlayer>;
}

/**
 * Where worlds are kept. Implementations: a file per world, or Redis. `load` returns
 * undefined for a new world, and also when the stored world and its previous generation are
 * both unreadable (logged, never thrown); a store that cannot be reached throws.
 */
export interface WorldStore {
  load(world: string): Promise<WorldSnapshot | undefined>;
  save(world: string, snapshot: WorldSnapshot): Promise<void>;
  close?(): Promise<void>;
}

/** Reads a stored snapshot, or undefined if it is not one (a damaged file is not fatal). */
export function parseSnapshot(text: string): WorldSnapshot | undefined {
  return readSnapshot(text).snapshot;
}

/** A stored snapshot, or why the text is not one ("empty", "not JSON: ...", ...), for the log. */
export function readSnapshot(text: string): { snapshot: WorldSnapshot; problem?: undefined } | { snapshot?: undefined; problem: string } {
  if (text.trim() === "") return { problem: "empty" };
  let s: WorldSnapshot;
  try {
    s = JSON.parse(text) as WorldSnapshot;
  } catch (e) {
    return { problem: `not JSON, ${text.length} characters: ${(e as Error).message}` };
  }
  if (typeof s !== "object" || s === null || Array.isArray(s)) return { problem: "not a snapshot object" };
  if (s.version !== 1) return { problem: `unknown snapshot version ${JSON.stringify(s.version)}` };
  if (!Array.isArray(s.items)) return { problem: "no items array" };
  if (typeof s.players !== "object" || s.players === null) return { problem: "no players object" };
  return { snapshot: s };
}

/**
 * World names are letters, digits, `_` and `-` (checked at join); stores check again, as they
 * build file names and keys from them. A region of a split world other than its entry region
 * is kept as `world~cx_cy` (`~` is in no world name, so no world's key is a region's).
 */
export function checkWorldName(world: string): void {
  if (typeof world !== "string" || !/^[A-Za-z0-9_-]{1,128}(~\d{1,4}_\d{1,4})?$/.test(world)) throw new Error(`bad world name ${JSON.stringify(world)}: letters, digits, _ and - only (and ~cx_cy for a region)`);
}
