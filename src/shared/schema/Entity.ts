import { Schema, type } from "@colyseus/schema";
import { Vars } from "./Vars";

/** What players and items share: an id, a position, and public variables. */
export class Entity extends Schema {
  @type("string") id = "";
  @type("number") x = 0;
  @type("number") y = 0;
  @type("number") z = 0;
  /** Typed public variables (src/shared/vars.ts reads them: `readVar(entity.vars, "score")`). */
  @type(Vars) vars = new Vars();
}
