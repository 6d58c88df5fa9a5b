import type { Player, Vars } from "../shared/schema";
import type { VarValue } from "../shared/wire";
import { readVars, sameVarValue } from "../shared/vars";
import { MAX_SAVED_PLAYERS, type SavedPlayer } from "./persistence/WorldStore";
import type { MMOSession } from "./Sessions";

/** Bytes a world may spend on remembered players, by default (about 5,000 players with a few variables). */
export const SAVED_PLAYERS_BYTES = 2 * 1024 * 1024;

/**
 * What a world remembers of its players between visits, by guest identity: where they were
 * and their variables. Only players with progress are remembered (a variable that differs
 * from the game's defaults: a guest who earned nothing is not), so fresh identities made by
 * the thousand take no space and push nobody out. Two budgets: MAX_SAVED_PLAYERS entries
 * and `byteBudget` bytes of JSON; over either, the least recently seen are forgotten.
 */
export class PlayerMemory {
  private players = new Map<string, { saved: SavedPlayer; bytes: number }>();
  private bytes = 0;

  constructor(
    /** User variables every player starts with (e.g. score 0): having only these is no progress. */
    private readonly defaults: ReadonlyMap<string, VarValue> = new Map(),
    private readonly byteBudget = SAVED_PLAYERS_BYTES,
    /** A player's private variables (any of them is progress: an inventory, a quest flag). */
    private readonly privateVarsOf?: (player: Player) => Vars | undefined,
  ) {}

  /** What the world remembers of `identity`, if anything. */
  recall(identity: string): SavedPlayer | undefined {
    return this.players.get(identity)?.saved;
  }

  /** True when a player's variables hold something beyond the defaults. */
  hasProgress(vars: Iterable<[string, VarValue]>): boolean {
    for (const [k, v] of vars) if (!sameVarValue(this.defaults.get(k), v)) return true;
    return false;
  }

  /** Records a session's player now (on leave, and before every snapshot). */
  remember(session: MMOSession): void {
    if (!session.identity) return;
    const { player } = session;
    const previous = this.players.get(session.identity)?.saved;
    const vars = readVars(player.vars);
    const privateVars = readVars(this.privateVarsOf?.(player));
    const hasPrivate = Object.keys(privateVars).length > 0;
    if (!previous && !hasPrivate && !this.hasProgress(Object.entries(vars))) return;
    // A player still in limbo has not moved: keep where they were.
    const at = session.inLimbo ? (session.savedPosition ?? previous) : player;
    if (!at) return;
    this.set(session.identity, { name: player.name, x: at.x, y: at.y, z: at.z, vars, ...(hasPrivate ? { privateVars } : {}), seenAt: Date.now() });
  }

  /** Everything remembered (a copy, for a snapshot), within both budgets. */
  all(): Record<string, SavedPlayer> {
    this.trim();
    const out: Record<string, SavedPlayer> = {};
    for (const [id, { saved }] of this.players) out[id] = saved;
    return out;
  }

  replaceAll(players: Record<string, SavedPlayer>): void {
    this.players.clear();
    this.bytes = 0;
    for (const [id, saved] of Object.entries(players)) this.set(id, saved);
    this.trim();
  }

  /** Bytes of JSON the remembered players take (an estimate: each entry's own JSON). */
  get size(): { players: number; bytes: number } {
    return { players: this.players.size, bytes: this.bytes };
  }

  private set(id: string, saved: SavedPlayer): void {
    const bytes = id.length + JSON.stringify(saved).length + 4;
    const old = this.players.get(id);
    if (old) this.bytes -= old.bytes;
    // Re-inserted last: the Map's order is least recently seen first.
    this.players.delete(id);
    this.players.set(id, { saved, bytes });
    this.bytes += bytes;
  }

  private trim(): void {
    if (this.players.size <= MAX_SAVED_PLAYERS && this.bytes <= this.byteBudget) return;
    const bySeen = [...this.players].sort((a, b) => a[1].saved.seenAt - b[1].saved.seenAt);
    for (const [id, entry] of bySeen) {
      if (this.players.size <= MAX_SAVED_PLAYERS && this.bytes <= this.byteBudget) break;
      this.players.delete(id);
      this.bytes -= entry.bytes;
    }
  }
}
