export { Entity } from "./Entity";
export { Item } from "./Item";
export { MMOState } from "./MMOState";
export { Player } from "./Player";
export { Vec3State } from "./Vec3State";
export { Vars } from "./Vars";
