/**
 * Typed variables on top of the `Vars` schema (one map of tagged strings): reading, writing and
 * checking values. No zod and no Colyseus import: the SDK, the browser and the server share it.
 * Works on reflection-decoded state too (it reads the map, never class methods).
 *
 * Wire form of one variable, the map's value for its name (the first character is the type):
 * - `t` or `f`: a boolean (true, false);
 * - a digit or `-`: a number, its shortest round-trip decimal text (`String(n)`: `250`, `-3`,
 *   `0.5`, `1e+21`);
 * - `{` or `[`: an object or array, its JSON text;
 * - `s`: a string, `s` followed by the string (`sred`).
 */
import { type JsonValue, VAR_LIMITS, type VarChanges, type VarType, type VarValue } from "./wire";

/** What `Vars` is to these functions: its map (a server Vars, or a decoded one). */
interface MapLike<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  set(key: string, value: V): unknown;
  delete(key: string): unknown;
  keys(): Iterable<string>;
  readonly size: number;
}
export interface VarsLike {
  v: MapLike<string>;
}

/** A value's wire text (see the module comment). */
export function encodeVarValue(value: VarValue): string {
  switch (typeof value) {
    case "boolean":
      return value ? "t" : "f";
    case "number":
      return String(value);
    case "string":
      return `s${value}`;
    default:
      return JSON.stringify(value);
  }
}

/** The typed value of a wire text, or undefined when it is not one. Objects and arrays are parsed anew on every call. */
export function decodeVarValue(text: string | undefined): VarValue | undefined {
  if (text === undefined || text.length === 0) return undefined;
  const c = text.charCodeAt(0);
  if (c === 115 /* s */) return text.slice(1);
  if ((c >= 48 && c <= 57) /* 0-9 */ || c === 45 /* - */) {
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  if (c === 116 /* t */) return text.length === 1 ? true : undefined;
  if (c === 102 /* f */) return text.length === 1 ? false : undefined;
  if (c === 123 /* { */ || c === 91 /* [ */) {
    try {
      return JSON.parse(text) as VarValue;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A variable's typed value (undefined when it is not set). Objects and arrays are parsed anew on every read. */
export function readVar(vars: VarsLike | undefined, name: string): VarValue | undefined {
  return decodeVarValue(vars?.v?.get(name));
}

/** True when the variable is set. */
export function hasVar(vars: VarsLike | undefined, name: string): boolean {
  return vars?.v?.has(name) ?? false;
}

/** The names of every variable set. */
export function varNames(vars: VarsLike | undefined): string[] {
  return vars?.v ? [...vars.v.keys()] : [];
}

/** How many variables are set. */
export function varCount(vars: VarsLike | undefined): number {
  return vars?.v?.size ?? 0;
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
 * Sets (a value) or deletes (null) one variable; a type change is a new value like any other.
 * Unchanged text is not written (no patch). Unchecked: check the value first (`checkVarValue`).
 */
export function writeVar(vars: VarsLike, name: string, value: VarValue | null): void {
  if (value === null) {
    if (vars.v.has(name)) vars.v.delete(name);
    return;
  }
  const text = encodeVarValue(value);
  if (vars.v.get(name) !== text) vars.v.set(name, text);
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
