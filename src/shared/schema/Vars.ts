import { MapSchema, Schema, type } from "@colyseus/schema";

/**
 * A set of typed variables (user, item, private or Room Variables): one map of strings, name
 * to a tagged value whose first character says its type (src/shared/vars.ts encodes them):
 * `t` / `f` a boolean, a digit or `-` a number (its shortest decimal text, as `String(n)`),
 * `{` or `[` an object or array (its JSON text), `s` a string (`s` then the string).
 *
 * One map, not one per type: every entity carries this Vars and its map, and each schema
 * instance is a ChangeTree that every StateView holding the entity marks with a visibility
 * bit (heap and AoI cost per tree), so the fewer the better. It stays a map of primitives, so
 * the fan-out serializer encodes a change once for all viewers. Read and write them through
 * src/shared/vars.ts (`readVar`, `readVars`, `writeVar`): the SDK's reflection-decoded classes
 * carry no methods.
 */
export class Vars extends Schema {
  /** Name to tagged value (see the class comment); never written directly, only by `writeVar`. */
  @type({ map: "string" }) v = new MapSchema<string>();
}
