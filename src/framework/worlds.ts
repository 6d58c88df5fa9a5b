import { type Presence, matchMaker } from "@colyseus/core";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { envChoice, envString } from "../ops/env";
import { DEFAULT_WORLD, joinOptionsSchema } from "../shared/protocol";
import type { DeclaredWorld } from "../shared/lobby";
import { type MMOSettings, type MMOSettingsInput, parseSettings } from "./settings";

/**
 * Worlds with their own settings (SmartFoxServer's MMORoomSettings per room): a table
 * declared where the server is configured, plus worlds defined at runtime (`define`). A room
 * asks `resolve(world)` in onCreate; clients only name a world, never its settings.
 */

/** What a world not in the table (nor defined at runtime) gets: the defaults, or a refused join (4404). */
export type UnknownWorlds = "default" | "refuse";
export const UNKNOWN_WORLDS = ["default", "refuse"] as const;

/** Settings of the process, not of a world: a world's entry may not name them. */
const PROCESS_WIDE = new Set<string>(["drainSeconds", "serializer"]);

/** A world's own settings: any MMO setting but the process-wide ones; mapLimits may give lower or higher alone. */
export type WorldSettingsInput = Omit<MMOSettingsInput, "drainSeconds" | "serializer" | "mapLimits"> & {
  mapLimits?: { lower?: MMOSettings["mapLimits"]["lower"]; higher?: MMOSettings["mapLimits"]["higher"] };
};

/** One row of the worlds table. */
export interface WorldEntryInput {
  /** Shown in the lobby, the world picker and /monitor (default: the world's name). */
  title?: string;
  /** Overrides of the defaults for this world. */
  settings?: WorldSettingsInput;
}

/** World name -> entry. Names follow the `world` join option (letters, digits, _ and -). */
export type WorldTable = Record<string, WorldEntryInput>;

/** A world as a room is created with it. */
export interface ResolvedWorld {
  name: string;
  title: string;
  settings: MMOSettings;
}

const worldName = joinOptionsSchema.shape.world.unwrap();
const entrySchema = z
  .object({
    title: z.string().trim().min(1).max(64).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const tableSchema = z.record(z.string(), z.unknown());

/** Where runtime-defined worlds live: the presence (Redis in a cluster), one hash field per world. */
export const RUNTIME_WORLDS_KEY = "mmo:worlds";

/** `defaults` with a world's overrides on top; mapLimits merged per bound. */
function merge(defaults: MMOSettings, overrides: Record<string, unknown>): MMOSettingsInput {
  const limits = overrides.mapLimits as Record<string, unknown> | undefined;
  return {
    ...defaults,
    ...overrides,
    ...(limits !== undefined && { mapLimits: typeof limits === "object" && limits !== null ? { ...defaults.mapLimits, ...limits } : limits }),
  } as MMOSettingsInput;
}

/** Checks one entry against the defaults; throws a line that names the world. */
function checkEntry(name: string, entry: unknown, defaults: MMOSettings): ResolvedWorld {
  const nameOk = worldName.safeParse(name);
  if (!nameOk.success) throw new Error(`world "${name}": ${z.prettifyError(nameOk.error)}`);
  const parsed = entrySchema.safeParse(entry);
  if (!parsed.success) throw new Error(`world "${name}": ${z.prettifyError(parsed.error)}`);
  const overrides = parsed.data.settings ?? {};
  const wide = Object.keys(overrides).filter((k) => PROCESS_WIDE.has(k));
  if (wide.length) throw new Error(`world "${name}": ${wide.join(", ")} is a setting of the whole process, not of a world`);
  try {
    return { name, title: parsed.data.title ?? name, settings: parseSettings(merge(defaults, overrides)) };
  } catch (e) {
    throw new Error(`world "${name}": ${(e as Error).message}`);
  }
}

export interface WorldRegistryOptions {
  /** Every world's starting point (arena.config.ts: its settings with the MMO_* overrides). */
  defaults: MMOSettings;
  table?: WorldTable;
  unknownWorlds?: UnknownWorlds;
  /** Where runtime worlds are kept (default: the matchmaker's presence, so Redis in a cluster). */
  presence?: () => Presence;
}

/**
 * The worlds this server knows. The table is checked when the registry is made (a bad one
 * throws, so the server does not start); `define` adds a world at runtime, in the presence:
 * with Redis every process of the cluster sees it.
 */
export class WorldRegistry {
  readonly defaults: MMOSettings;
  readonly unknownWorlds: UnknownWorlds;
  private readonly table = new Map<string, ResolvedWorld>();
  private readonly presence: () => Presence;

  constructor(options: WorldRegistryOptions) {
    this.defaults = options.defaults;
    this.unknownWorlds = options.unknownWorlds ?? "default";
    this.presence = options.presence ?? (() => matchMaker.presence);
    const table = tableSchema.safeParse(options.table ?? {});
    if (!table.success) throw new Error(`Invalid worlds table: ${z.prettifyError(table.error)}`);
    for (const [name, entry] of Object.entries(table.data)) {
      try {
        this.table.set(name, checkEntry(name, entry, this.defaults));
      } catch (e) {
        throw new Error(`Invalid worlds table: ${(e as Error).message}`);
      }
    }
  }

  /**
   * SmartFoxServer's createRoom with MMORoomSettings: a world with its own settings, from now
   * on, cluster-wide (the presence). A room of it that is already live keeps its settings; the
   * next one gets these. A world of the table cannot be redefined.
   * @throws Error on a bad name or bad settings (nothing is stored).
   */
  async define(name: string, entry: WorldEntryInput = {}): Promise<ResolvedWorld> {
    if (this.table.has(name)) throw new Error(`world "${name}" is declared in the worlds table; it cannot be redefined at runtime`);
    const world = checkEntry(name, entry, this.defaults);
    await this.presence().hset(RUNTIME_WORLDS_KEY, name, JSON.stringify(entry));
    return world;
  }

  /** Forgets a runtime world (its live room, if any, runs on). */
  async remove(name: string): Promise<void> {
    await this.presence().hdel(RUNTIME_WORLDS_KEY, name);
  }

  /** The world's settings and title; undefined when it is unknown and unknown worlds are refused. */
  async resolve(name: string): Promise<ResolvedWorld | undefined> {
    const declared = this.table.get(name);
    if (declared) return declared;
    const stored = await this.presence().hget(RUNTIME_WORLDS_KEY, name);
    if (stored) {
      const world = this.fromStore(name, stored);
      if (world) return world;
    }
    if (this.unknownWorlds === "refuse" && name !== DEFAULT_WORLD) return undefined;
    return { name, title: name, settings: this.defaults };
  }

  /** Every declared and runtime world (for the lobby), table first. */
  async list(): Promise<DeclaredWorld[]> {
    const runtime = await this.presence().hgetall(RUNTIME_WORLDS_KEY).catch(() => ({}) as Record<string, string>);
    const worlds = [...this.table.values()];
    for (const [name, text] of Object.entries(runtime ?? {})) {
      const world = !this.table.has(name) && this.fromStore(name, text);
      if (world) worlds.push(world);
    }
    return worlds.map((w) => ({ world: w.name, title: w.title, maxUsers: w.settings.maxUsers }));
  }

  /** A stored entry, checked again (another process wrote it): undefined if it no longer passes. */
  private fromStore(name: string, text: string): ResolvedWorld | undefined {
    try {
      return checkEntry(name, JSON.parse(text), this.defaults);
    } catch {
      return undefined;
    }
  }
}

/**
 * The registry as arena.config.ts builds it: `table` unless MMO_WORLDS_FILE names a JSON file
 * holding another one, and `unknownWorlds` unless MMO_UNKNOWN_WORLDS says otherwise.
 */
export function worldsFromConfig(
  defaults: MMOSettings,
  config: { table?: WorldTable; unknownWorlds?: UnknownWorlds } = {},
  env: NodeJS.ProcessEnv = process.env,
): WorldRegistry {
  const file = envString(env, "MMO_WORLDS_FILE");
  let table = config.table;
  if (file) {
    try {
      table = JSON.parse(readFileSync(file, "utf8")) as WorldTable;
    } catch (e) {
      throw new Error(`MMO_WORLDS_FILE: cannot read a JSON worlds table from "${file}": ${(e as Error).message}`);
    }
  }
  const unknownWorlds = envChoice(env, "MMO_UNKNOWN_WORLDS", UNKNOWN_WORLDS) ?? config.unknownWorlds;
  try {
    return new WorldRegistry({ defaults, table, unknownWorlds });
  } catch (e) {
    throw new Error(file ? `MMO_WORLDS_FILE ${file}: ${(e as Error).message}` : (e as Error).message);
  }
}
