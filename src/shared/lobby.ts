/**
 * The lobby (Colyseus's LobbyRoom with realtime listing of the `mmo` rooms): what a client
 * joining it receives. Plain types, no validation library: the browser imports them.
 */

/** The lobby's room type: `client.joinOrCreate(LOBBY_ROOM, { filter: { name: "mmo" } })`. */
export const LOBBY_ROOM = "lobby";

/** A live world's listing metadata (the MMO room's `metadata`, refreshed at most every 500 ms). */
export interface WorldListing {
  world: string;
  /** The world's title from the worlds table (its name when it has none). */
  title: string;
  /** Users in the room, limbo and reconnecting ones included (the state's `userCount`). */
  users: number;
  /** Users without a position yet. */
  limbo: number;
  maxUsers: number;
  /** The room's region ("" : the entry region, or the whole world when it is not split); `users` are this region's. */
  region: string;
}

/** A world the server declares (its worlds table, or defined at runtime), live or not. */
export interface DeclaredWorld {
  world: string;
  title: string;
  maxUsers: number;
}

/**
 * Messages the lobby sends: LobbyRoom's own `rooms` (every listed room on join), `+`
 * ([roomId, room]: a room appeared or its listing changed), `-` (roomId: a room is gone), and
 * `worlds` (this server's declared worlds, on join; `unknownWorlds: "default"` means a world
 * of any other name can be joined too, with the default settings).
 */
export interface LobbyWorldsMessage {
  worlds: DeclaredWorld[];
  unknownWorlds: "default" | "refuse";
}

/** A room as LobbyRoom lists it (IRoomCache, the parts a client reads). */
export interface LobbyRoomListing {
  roomId: string;
  name: string;
  clients: number;
  metadata?: Partial<WorldListing>;
}
