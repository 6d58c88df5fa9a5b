import { Callbacks, type Room } from "@colyseus/sdk";
import type { Entity, Item, MMOState, Player } from "../schema";

/**
 * Calls `listener(player, changedNames)` once per applied patch for every visible player (this
 * client's own included) whose user variables changed: set, changed or deleted (a deleted one
 * is named and is no longer in `player.vars`). SmartFoxServer's USER_VARIABLES_UPDATE.
 *
 * The variables a player has when it enters the AoI are not a change: read them from
 * `entity.vars` in onProximityUpdate. Returns a function that stops listening.
 *
 * @example
 * ```typescript
 * onUserVariablesUpdate(room, (player, changed) => {
 *   if (changed.includes("hat")) setHat(player.id, player.vars.get("hat"));
 * });
 * ```
 */
export function onUserVariablesUpdate(room: Room<MMOState>, listener: (player: Player, changedNames: string[]) => void): () => void {
  return onVariablesUpdate(room, "players", listener as (entity: Entity, changedNames: string[]) => void);
}

/** Like onUserVariablesUpdate, for the public variables of the items this client sees (SmartFoxServer's MMOITEM_VARIABLES_UPDATE). */
export function onItemVariablesUpdate(room: Room<MMOState>, listener: (item: Item, changedNames: string[]) => void): () => void {
  return onVariablesUpdate(room, "items", listener as (entity: Entity, changedNames: string[]) => void);
}

/**
 * Watches the `vars` map of every entity in `collection`, whatever its values' type: the
 * names that changed in a patch are reported together after it is applied.
 */
function onVariablesUpdate(room: Room<MMOState>, collection: "players" | "items", listener: (entity: Entity, changedNames: string[]) => void): () => void {
  const callbacks = Callbacks.get(room);
  /** Per entity key: its vars listener and the instance it is on. */
  const watched = new Map<string, { entity: Entity; off: () => void }>();
  /** Entities that entered in the patch being applied: their variables arrive with them, as no change. */
  const entering = new Set<Entity>();
  const changed = new Map<Entity, Set<string>>();
  let registering = true;

  const watch = (entity: Entity, key: string) => {
    watched.get(key)?.off();
    if (!registering) entering.add(entity);
    const off = callbacks.onChange(entity, "vars", (name: string) => {
      if (entering.has(entity)) return;
      let names = changed.get(entity);
      if (!names) changed.set(entity, (names = new Set()));
      names.add(name);
    });
    watched.set(key, { entity, off });
  };
  const unwatch = (key: string) => {
    const w = watched.get(key);
    if (!w) return;
    w.off();
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
    for (const [entity, names] of batch) listener(entity, [...names]);
  };
  room.onStateChange(flush);
  return () => {
    add();
    remove();
    for (const key of [...watched.keys()]) unwatch(key);
    room.onStateChange.remove(flush);
  };
}
