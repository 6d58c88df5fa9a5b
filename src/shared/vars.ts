/**
 * Typed variables on top of the `Vars` schema (one map per wire type): reading, writing and
 * checking values. No zod and no Colyseus import: the SDK, the browser and the server share it.
 * Works on reflection-decoded state too (it reads the maps, never class methods).
 */
import { type JsonValue, VAR_LIMITS, type VarChanges, type VarType, type VarValue } from "./wire";

/** What `Vars` is to these functions: its four maps (a server Vars, or a decoded one). */
interface MapLike<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  set(key: string, value: V): unknown;
  delete(key: string): unknown;
  keys(): Iterable<string>;
  readonly size: number;
}
export interface VarsLike {
  bools: MapLike<boolean>;
  nums: MapLike<number>;
  strs: MapLike<string>;
  json: MapLike<string>;
}
type MapName = keyof VarsLike;
const MAPS: readonly MapName[] = ["bools", "nums", "strs", "json"];

/** The map a value travels in. */
function mapOf(value: VarValue): MapName {
  if (typeof value === "boolean") return "bools";
  if (typeof value === "number") return "nums";
  if (typeof value === "string") return "strs";
  return "json";
}

/** A variable's typed value (undefined when it is not set). Objects and arrays are parsed anew on every read. */
export function readVar(vars: VarsLike | undefined, name: string): VarValue | undefined {
  if (!vars) return undefined;
  if (vars.bools?.has(name)) return vars.bools.get(name);
  if (vars.nums?.has(name)) return vars.nums.get(name);
  if (vars.strs?.has(name)) return vars.strs.get(name);
  const text = vars.json?.get(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as VarValue;
  } catch {
    return undefined;
  }
}

/** True when the variable is set. */
export function hasVar(vars: VarsLike | undefined, name: string): boolean {
  return vars !== undefined && MAPS.some((m) => vars[m]?.has(name));
}

/** The names of every variable set. */
export function varNames(vars: VarsLike | undefined): string[] {
  if (!vars) return [];
  const names: string[] = [];
  for (const m of MAPS) if (vars[m]) for (const k of vars[m].keys()) names.push(k);
  return names;
}

/** How many variables are set. */
export function varCount(vars: VarsLike | undefined): number {
  return vars ? MAPS.reduce((n, m) => n + (vars[m]?.size ?? 0), 0) : 0;
}

/** Every variable as a plain object of typed values (persistence, events, debugging). */
export function readVars(vars: VarsLike | undefined): Record<string, VarValue> {
  const out: Record<string, VarValue> = {};
  for (const name of varNames(vars)) {
    const v = readVar(vars, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The SmartFoxServer-style type of a value: a JS number is an int when it is an integer. */
export function varTypeOf(value: VarValue): VarType {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "double";
  if (typeof value === "string") return "string";
  return Array.isArray(value) ? "array" : "object";
}

/**
 * Sets (a value) or deletes (null) one variable: the value goes to its type's map and leaves
 * any other (a type change). Unchecked: check the value first (`checkVarValue`).
 */
export function writeVar(vars: VarsLike, name: string, value: VarValue | null): void {
  const target = value === null ? undefined : mapOf(value);
  for (const m of MAPS) if (m !== target && vars[m].has(name)) vars[m].delete(name);
  if (value === null || target === undefined) return;
  if (target === "json") {
    const text = JSON.stringify(value);
    if (vars.json.get(name) !== text) vars.json.set(name, text);
  } else if ((vars[target] as MapLike<VarValue>).get(name) !== value) {
    (vars[target] as MapLike<VarValue>).set(name, value);
  }
}

/** Sets or deletes several variables (unchecked, see `writeVar`). */
export function writeVars(vars: VarsLike, changes: VarChanges): void {
  for (const [name, value] of Object.entries(changes)) writeVar(vars, name, value);
}

/** True when two values are the same (objects and arrays compared as JSON). */
export function sameVarValue(a: VarValue | undefined, b: VarValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Bounds `checkVarValue` applies; the defaults are a client's (VAR_LIMITS). */
export interface VarValueLimits {
  maxValueLength: number;
  maxJsonBytes: number;
  maxJsonDepth: number;
}

const utf8 = new TextEncoder();

/**
 * Why `value` is not a variable value, or undefined when it is one: a boolean, a finite
 * number, a string of at most `maxValueLength` characters, or a plain object/array of JSON
 * values (finite numbers, no `__proto__` key) nested at most `maxJsonDepth` deep whose JSON
 * takes at most `maxJsonBytes` bytes. (null, which deletes, is the caller's to allow.)
 */
export function checkVarValue(value: unknown, limits: VarValueLimits = VAR_LIMITS): string | undefined {
  switch (typeof value) {
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : "numbers must be finite (no NaN or Infinity)";
    case "string":
      return value.length <= limits.maxValueLength ? undefined : `strings are at most ${limits.maxValueLength} characters`;
    case "object": {
      if (value === null) return "null deletes a variable; it is no value";
      const problem = checkJson(value, 1, limits.maxJsonDepth);
      if (problem) return problem;
      const bytes = utf8.encode(JSON.stringify(value)).length;
      return bytes <= limits.maxJsonBytes ? undefined : `objects and arrays are at most ${limits.maxJsonBytes} bytes of JSON (this one: ${bytes})`;
    }
    default:
      return "a variable is a boolean, a number, a string, an object or an array";
  }
}

function checkJson(value: object, depth: number, maxDepth: number): string | undefined {
  if (depth > maxDepth) return `objects and arrays nest at most ${maxDepth} deep`;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return "objects must be plain JSON objects";
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return "reserved key __proto__";
    const v = (value as Record<string, unknown>)[key];
    if (v === null || typeof v === "boolean" || typeof v === "string") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return "numbers must be finite (no NaN or Infinity)";
      continue;
    }
    if (typeof v !== "object") return "objects and arrays hold JSON values only";
    const problem = checkJson(v, depth + 1, maxDepth);
    if (problem) return problem;
  }
  return undefined;
}

/** Re-exported for convenience. */
export type { JsonValue, VarChanges, VarType, VarValue };
