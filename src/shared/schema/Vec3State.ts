import { Schema, type } from "@colyseus/schema";

/** A 3D vector in the state (AoI size and map limits), visible to everyone. */
export class Vec3State extends Schema {
  @type("number") x = 0;
  @type("number") y = 0;
  @type("number") z = 0;

  static of(v: { x: number; y: number; z: number }): Vec3State {
    return new Vec3State().assign({ x: v.x, y: v.y, z: v.z });
  }
}
