import type { Client, Room } from "@colyseus/sdk";
import { MMOState } from "../schema";
import type { HandoffMessage } from "../wire";
import { registerServerMessages } from "./messages";

/** A client's switch from one region room to its neighbour. */
export interface RegionSwitch {
  from: Room<MMOState>;
  to: Room<MMOState>;
  /** The region the client is in now. */
  region: string;
}

const regionOfRoom = new WeakMap<Room, string>();

/** The region a room of a split world is (as the last handoff said; "" for the entry region or an unsplit world). */
export function regionOf(room: Room): string {
  return regionOfRoom.get(room) ?? "";
}

/**
 * Follows a player across region borders: when the server hands the player to a neighbouring
 * region (`handoff`), consumes the seat reservation it sent, then calls `onSwitch` with the old
 * and the new room. The player is the same (same sessionId, variables, identity); the old room
 * closes on its own with 4105 (HANDED_OFF) once the new one has the player, so do not treat
 * that close as a disconnect. Keep sending input to the old room until `onSwitch`, then to the
 * new one (re-send the keys held: the new room starts from the keys the old one last had).
 * A failed switch keeps the old room: the server offers the handoff again.
 * Returns a function that stops following (the current room's handler is removed).
 *
 * @example
 * ```typescript
 * let room = await joinWorld(client, { world: "frontier" });
 * followHandoffs(client, room, ({ to }) => { room = to; scene.attach(to); });
 * ```
 */
export function followHandoffs(
  client: Client,
  room: Room<MMOState>,
  onSwitch: (change: RegionSwitch) => void,
  options: { decode?: "reflection" | "classes" } = {},
): () => void {
  let current = room;
  let stop = () => {};
  const follow = (r: Room<MMOState>) => {
    stop = r.onMessage("handoff", (m: HandoffMessage) => void take(r, m));
  };
  let switching = false;
  const take = async (from: Room<MMOState>, m: HandoffMessage) => {
    if (switching || from !== current) return;
    switching = true;
    try {
      const reservation = m.reservation as Parameters<Client["consumeSeatReservation"]>[0];
      const to = (options.decode === "classes" ? await client.consumeSeatReservation(reservation, MMOState) : await client.consumeSeatReservation<MMOState>(reservation)) as Room<MMOState>;
      registerServerMessages(to);
      regionOfRoom.set(to, m.region);
      stop();
      current = to;
      follow(to);
      onSwitch({ from, to, region: m.region });
    } catch {
      // The neighbour refused or is gone: the player is still in `from`, which offers it again.
    } finally {
      switching = false;
    }
  };
  follow(room);
  return () => stop();
}
