import { MapSchema, Schema, type } from "@colyseus/schema";

/**
 * A user's avatar. Only clients whose AoI holds it receive it (the room's StateView filter);
 * `vars` are the user variables, so they reach exactly those clients too.
 */
export class Player extends Schema {
  @type("string") id = "";
  @type("string") name = "";
  @type("number") x = 0;
  @type("number") y = 0;
  @type("number") z = 0;
  @type({ map: "string" }) vars = new MapSchema<string>();
}
