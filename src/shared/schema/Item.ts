import { type } from "@colyseus/schema";
import { Entity } from "./Entity";

/**
 * A non-player entity (SmartFoxServer's MMOItem): a bonus, a trigger, an NPC. Its public
 * `vars` travel to the clients that see it; its hidden variables live in the room only.
 */
export class Item extends Entity {
  @type("string") kind = "";
}
