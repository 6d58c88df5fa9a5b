import { MapSchema, Schema, type } from "@colyseus/schema";

/**
 * A non-player entity (SmartFoxServer's MMOItem): a bonus, a trigger, an NPC. Its public
 * `vars` travel to the clients that see it; its hidden variables live in the room only.
 */
export class Item extends Schema {
  @type("string") id = "";
  @type("string") kind = "";
  @type("number") x = 0;
  @type("number") y = 0;
  @type("number") z = 0;
  @type({ map: "string" }) vars = new MapSchema<string>();
}
