import { type } from "@colyseus/schema";
import { Entity } from "./Entity";

/**
 * A user's avatar. Only clients whose AoI holds it receive it (the room's StateView filter);
 * `vars` are the user variables, so they reach exactly those clients too.
 */
export class Player extends Entity {
  @type("string") name = "";
}
