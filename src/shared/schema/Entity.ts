import { MapSchema, Schema, type } from "@colyseus/schema";

/** What players and items share: an id, a position, and public variables. */
export class Entity extends Schema {
  @type("string") id = "";
  @type("number") x = 0;
  @type("number") y = 0;
  @type("number") z = 0;
  @type({ map: "string" }) vars = new MapSchema<string>();
}
