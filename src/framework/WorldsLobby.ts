import { type Client, LobbyRoom } from "@colyseus/core";
import type { LobbyWorldsMessage } from "../shared/lobby";
import type { WorldRegistry } from "./worlds";

/** Clients one lobby room holds (a second lobby room opens beyond it). */
export const LOBBY_MAX_CLIENTS = 2000;
/** Messages per second a lobby client may send (`filter`). */
export const LOBBY_MAX_MESSAGES_PER_SECOND = 5;

type Filter = NonNullable<LobbyRoom["clientOptions"][string]["filter"]>;
type Listing = LobbyRoom["rooms"][number];

export interface WorldsLobbyOptions {
  /** The server's worlds (arena.config.ts): sent to each client on join as `worlds`. */
  worlds?: WorldRegistry;
  /** The room type it lists (default "mmo"): a client's own `filter` option is not used. */
  lists?: string;
}

/**
 * Colyseus's own LobbyRoom (SmartFoxServer's USER_COUNT_CHANGE for a room group): every
 * listed room on join (`rooms`), then `+` / `-` as rooms of a type with realtime listing
 * appear, change their metadata (an MMO room's counts, at most every 500 ms) and go away.
 * This one lists the MMO rooms only, and on join also sends `worlds`: the declared worlds,
 * live or not, so a picker can offer a world nobody plays yet.
 */
export class WorldsLobby extends LobbyRoom {
  /**
   * Budgets: every listing change goes to every lobby client, so their number is capped
   * (LOBBY_MAX_CLIENTS), and a client only ever needs to send the odd `filter` message, so
   * more than LOBBY_MAX_MESSAGES_PER_SECOND closes it (Colyseus's flood guard, 4002).
   */
  override maxClients = LOBBY_MAX_CLIENTS;
  override maxMessagesPerSecond = LOBBY_MAX_MESSAGES_PER_SECOND;
  private registry?: WorldRegistry;
  private lists = "mmo";

  override async onCreate(options: WorldsLobbyOptions & Record<string, unknown> = {}): Promise<void> {
    this.registry = options.worlds;
    this.lists = options.lists ?? "mmo";
    await super.onCreate(options);
  }

  override async onJoin(client: Client): Promise<void> {
    super.onJoin(client, { filter: { name: this.lists } });
    if (!this.registry) return;
    const message: LobbyWorldsMessage = { worlds: await this.registry.list(), unknownWorlds: this.registry.unknownWorlds };
    client.send("worlds", message);
  }

  /** LobbyRoom's, but a room without metadata (or a client's odd `filter` message) never throws for everyone. */
  protected override filterItemForClient(room: Listing, filter?: Filter): boolean {
    if (!filter) return true;
    if (filter.name !== room.name) return false;
    const wanted = filter.metadata && typeof filter.metadata === "object" ? (filter.metadata as Record<string, unknown>) : {};
    const metadata = (room.metadata ?? {}) as Record<string, unknown>;
    return Object.keys(wanted).every((field) => metadata[field] === wanted[field]);
  }
}
