import { MapSchema, Schema, type } from "@colyseus/schema";

/**
 * A set of typed variables (user, item, private or Room Variables), one map per wire type, so a
 * changed scalar costs what a primitive map entry costs (no nested schema per variable) and
 * every map stays a map of primitives (the fan-out serializer encodes it once for all viewers).
 * A name is in at most one map. Read and write them through src/shared/vars.ts (`readVar`,
 * `readVars`, `writeVar`): the SDK's reflection-decoded classes carry no methods.
 */
export class Vars extends Schema {
  @type({ map: "boolean" }) bools = new MapSchema<boolean>();
  /** Ints and doubles: the number encoding sends small ints in 1..5 bytes, doubles in 9. */
  @type({ map: "number" }) nums = new MapSchema<number>();
  @type({ map: "string" }) strs = new MapSchema<string>();
  /** Objects and arrays, as JSON text. */
  @type({ map: "string" }) json = new MapSchema<string>();
}
