import { Callbacks, type Client, type Room } from "@colyseus/sdk";
import { type Item, MMOState, type Player } from "../schema";
import type { Vec3 } from "../vector";
import { DEFAULT_WORLD } from "../wire";
import { registerServerMessages } from "./messages";

/** A point in the world. */
export type EntryPoint = Vec3;

/** An entity that entered this client's AoI, with where it was when it entered. */
export interface Entered<T> {
  id: string;
  entity: T;
  /** SmartFoxServer's `aoiEntryPoint`: the entity's position when it entered the AoI. */
  entryPoint: EntryPoint;
}

/** SmartFoxServer's PROXIMITY_LIST_UPDATE, batched once per applied patch. */
export interface ProximityUpdate {
  addedUsers: Entered<Player>[];
  removedUsers: string[];
  addedItems: Entered<Item>[];
  removedItems: string[];
}

export interface JoinWorldOptions {
  /** The world to join (one room per world). Default DEFAULT_WORLD ("default"). */
  world?: string;
  /** A region of a world split into regions ("" : the entry region); a rejoin after a drain passes `regionOf(room)`. */
  region?: string;
  /** Display name; the server trims it, limits its length and makes it unique in the world. */
  name?: string;
  /** The guest identity token the server sent in an `identity` message on an earlier join. */
  token?: string;
  /**
   * What the state is decoded into. "reflection" (default): classes the SDK builds from the
   * server's handshake, so any server version decodes. "classes": this SDK's own MMOState,
   * Player, Item (`instanceof` holds); they must match the server's field for field, so use
   * the SDK of the server's version.
   */
  decode?: "reflection" | "classes";
}

/**
 * Joins (or creates) the room of a world, with a handler registered for every message the
 * server sends (registerServerMessages; hooks: onChat, onError, onIdentity, onShutdownNotice).
 */
export async function joinWorld(client: Client, options: JoinWorldOptions = {}): Promise<Room<MMOState>> {
  const joinOptions = { world: options.world ?? DEFAULT_WORLD, region: options.region, name: options.name, token: options.token };
  const room =
    options.decode === "classes" ? await client.joinOrCreate("mmo", joinOptions, MMOState) : await client.joinOrCreate<MMOState>("mmo", joinOptions);
  registerServerMessages(room);
  return room;
}

/**
 * Calls `listener` once per applied patch in which players or items entered or left this
 * client's AoI. The client's own player is not reported (as in SmartFoxServer, the proximity
 * list is the others). Returns a function that stops listening.
 *
 * @example
 * ```typescript
 * onProximityUpdate(room, ({ addedUsers, removedUsers }) => {
 *   for (const u of addedUsers) spawnSprite(u.id, u.entryPoint);
 *   for (const id of removedUsers) destroySprite(id);
 * });
 * ```
 */
export function onProximityUpdate(room: Room<MMOState>, listener: (update: ProximityUpdate) => void): () => void {
  const callbacks = Callbacks.get(room);
  let pending = emptyUpdate();
  const entryOf = (e: EntryPoint): EntryPoint => ({ x: e.x, y: e.y, z: e.z });
  const unbind = [
    callbacks.onAdd("players", (player: Player, id: string) => {
      if (id !== room.sessionId) pending.addedUsers.push({ id, entity: player, entryPoint: entryOf(player) });
    }),
    callbacks.onRemove("players", (_player: Player, id: string) => {
      if (id !== room.sessionId) removeOrCancel(pending.addedUsers, pending.removedUsers, id);
    }),
    callbacks.onAdd("items", (item: Item, id: string) => {
      pending.addedItems.push({ id, entity: item, entryPoint: entryOf(item) });
    }),
    callbacks.onRemove("items", (_item: Item, id: string) => {
      removeOrCancel(pending.addedItems, pending.removedItems, id);
    }),
  ];
  const flush = () => {
    const u = pending;
    if (u.addedUsers.length || u.removedUsers.length || u.addedItems.length || u.removedItems.length) {
      pending = emptyUpdate();
      listener(u);
    }
  };
  room.onStateChange(flush);
  return () => {
    for (const off of unbind) off();
    room.onStateChange.remove(flush);
  };
}

/** An entity that entered and left within one patch is reported as neither. */
function removeOrCancel<T>(added: Entered<T>[], removed: string[], id: string): void {
  const i = added.findIndex((a) => a.id === id);
  if (i >= 0) added.splice(i, 1);
  else removed.push(id);
}

function emptyUpdate(): ProximityUpdate {
  return { addedUsers: [], removedUsers: [], addedItems: [], removedItems: [] };
}
