import { Callbacks, type Room } from "@colyseus/sdk";
import type { Entity, Item, MMOState, Player, Vars } from "../schema";
import { readVar, readVars } from "../vars";
import type { VarValue } from "../wire";

/** What a variables event carries besides the names: the changed variables' new typed values, null for a deleted one. */
export type ChangedVars = Record<string, VarValue | null>;

/**
 * Calls `listener(player, changedNames, values)` once per applied patch for every visible
 * player (this client's own included) whose user variables changed: set, changed or deleted
 * (a deleted one is named, with `null` in `values`). Values are typed: 250 is a number, true a
 * boolean, an object an object. SmartFoxServer's USER_VARIABLES_UPDATE.
 *
 * The variables a player has when it enters the AoI are not a change: read them with
 * `readVars(entity.vars)` in onProximityUpdate. Returns a function that stops listening.
 *
 * @example
 * ```typescript
 * onUserVariablesUpdate(room, (player, changed, values) => {
 *   if (changed.includes("hat")) setHat(player.id, values.hat);
 * });
 * ```
 */
export function onUserVariablesUpdate(room: Room<MMOState>, listener: (player: Player, changedNames: string[], values: ChangedVars) => void): () => void {
  return onEntityVariablesUpdate(room, "players", listener as (entity: Entity, changedNames: string[], values: ChangedVars) => void);
}

/** Like onUserVariablesUpdate, for the public variables of the items this client sees (SmartFoxServer's MMOITEM_VARIABLES_UPDATE). */
export function onItemVariablesUpdate(room: Room<MMOState>, listener: (item: Item, changedNames: string[], values: ChangedVars) => void): () => void {
  return onEntityVariablesUpdate(room, "items", listener as (entity: Entity, changedNames: string[], values: ChangedVars) => void);
}

/**
 * Calls `listener(changedNames, roomVars)` once per applied patch in which Room Variables
 * changed (`roomVars`: all of them now, typed; a deleted one is named and absent). The
 * variables the room had when this client joined are not a change: read them with
 * `readVars(room.state.roomVars)`. SmartFoxServer's ROOM_VARIABLES_UPDATE.
 */
export function onRoomVariablesUpdate(room: Room<MMOState>, listener: (changedNames: string[], roomVars: Record<string, VarValue>) => void): () => void {
  const callbacks = Callbacks.get(room);
  const changed = new Set<string>();
  let offs: (() => void)[] = [];
  let watching: Vars | undefined;
  const attach = () => {
    const vars = room.state?.roomVars;
    if (!vars || vars === watching) return;
    for (const off of offs) off();
    const watched = watchVars(callbacks, vars, (name) => changed.add(name));
    offs = watched ?? [];
    watching = watched ? vars : undefined;
  };
  attach();
  const flush = () => {
    attach();
    if (!changed.size) return;
    const names = [...changed];
    changed.clear();
    listener(names, readVars(room.state.roomVars));
  };
  room.onStateChange(flush);
  return () => {
    for (const off of offs) off();
    room.onStateChange.remove(flush);
  };
}

/**
 * Owner-side: calls `listener(changedNames, privateVars)` once per applied patch in which this
 * client's private user variables changed (set by itself with `privateVars` or by the server;
 * no other client ever receives them). `privateVars` holds all of them now, typed. The ones
 * present when they first arrive (a returning player's inventory) are reported once, as a
 * change. SmartFoxServer's USER_VARIABLES_UPDATE for private variables.
 */
export function onPrivateVariablesUpdate(room: Room<MMOState>, listener: (changedNames: string[], privateVars: Record<string, VarValue>) => void): () => void {
  const callbacks = Callbacks.get(room);
  const changed = new Set<string>();
  let offs: (() => void)[] = [];
  let watching: Vars | undefined;
  const mine = () => room.state?.privateVars?.get(room.sessionId);
  const attach = () => {
    const vars = mine();
    if (vars === watching) return;
    for (const off of offs) off();
    offs = [];
    watching = undefined;
    if (!vars) return;
    const watched = watchVars(callbacks, vars, (name) => changed.add(name));
    if (!watched) return;
    offs = watched;
    watching = vars;
    for (const name of Object.keys(readVars(vars))) changed.add(name);
  };
  attach();
  const flush = () => {
    attach();
    if (!changed.size) return;
    const names = [...changed];
    changed.clear();
    listener(names, readVars(mine()));
  };
  room.onStateChange(flush);
  return () => {
    for (const off of offs) off();
    room.onStateChange.remove(flush);
  };
}

/** This client's own private user variables, typed (empty before they arrive). */
export function privateVariablesOf(room: Room<MMOState>): Record<string, VarValue> {
  return readVars(room.state?.privateVars?.get(room.sessionId));
}

/**
 * Listens to the map of a `Vars` (a set, change or delete reports the name). Returns
 * undefined for an instance the decoder has not filled yet (a class's default before the first
 * state, with `decode: "classes"`): the caller tries again after the next patch.
 */
function watchVars(callbacks: ReturnType<typeof Callbacks.get>, vars: Vars, onName: (name: string) => void): (() => void)[] | undefined {
  const cb = callbacks as unknown as { onChange(instance: object, property: string, handler: (key: string) => void): () => void };
  try {
    return [cb.onChange(vars, "v", (name: string) => onName(name))];
  } catch {
    return undefined;
  }
}

/**
 * Watches the `vars` of every entity in `collection`: the names that changed in a patch are
 * reported together after it is applied, with their typed values.
 */
function onEntityVariablesUpdate(room: Room<MMOState>, collection: "players" | "items", listener: (entity: Entity, changedNames: string[], values: ChangedVars) => void): () => void {
  const callbacks = Callbacks.get(room);
  /** Per entity key: its vars listeners and the instance they are on. */
  const watched = new Map<string, { entity: Entity; offs: (() => void)[] }>();
  /** Entities that entered in the patch being applied: their variables arrive with them, as no change. */
  const entering = new Set<Entity>();
  const changed = new Map<Entity, Set<string>>();
  let registering = true;

  const watch = (entity: Entity, key: string) => {
    for (const off of watched.get(key)?.offs ?? []) off();
    if (!registering) entering.add(entity);
    const offs = watchVars(callbacks, entity.vars, (name) => {
      if (entering.has(entity)) return;
      let names = changed.get(entity);
      if (!names) changed.set(entity, (names = new Set()));
      names.add(name);
    }) ?? [];
    watched.set(key, { entity, offs });
  };
  const unwatch = (key: string) => {
    const w = watched.get(key);
    if (!w) return;
    for (const off of w.offs) off();
    watched.delete(key);
    changed.delete(w.entity);
  };

  const add = callbacks.onAdd(collection, (entity: Entity, key: string) => watch(entity, key));
  const remove = callbacks.onRemove(collection, (_entity, key) => unwatch(key));
  registering = false;

  const flush = () => {
    entering.clear();
    if (!changed.size) return;
    const batch = [...changed];
    changed.clear();
    for (const [entity, names] of batch) {
      const list = [...names];
      const values: ChangedVars = {};
      for (const name of list) values[name] = readVar(entity.vars, name) ?? null;
      listener(entity, list, values);
    }
  };
  room.onStateChange(flush);
  return () => {
    add();
    remove();
    for (const key of [...watched.keys()]) unwatch(key);
    room.onStateChange.remove(flush);
  };
}
