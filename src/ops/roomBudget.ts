import { ServerError } from "@colyseus/core";
import { JoinErrorCodes } from "../shared/codes";
import { roomsRefused } from "./metrics";

export interface RoomLimits {
  maxRooms: number;
  maxRoomsByType: Record<string, number>;
}

/**
 * How many rooms this process hosts, in all and per room type, against caps: a stranger
 * naming a new world in every request cannot make the process create rooms (and spawn
 * backends, and write world files) without bound. Rooms take a place in `onCreate` and give
 * it back in `onDispose`.
 */
export class RoomBudget {
  private total = 0;
  /** Rooms ever created on this process (a place taken), by all types. */
  created = 0;
  private readonly byType = new Map<string, number>();

  constructor(private limits: RoomLimits) {}

  /** Sets the caps (arena.config.ts, at start). */
  configure(limits: RoomLimits): void {
    this.limits = limits;
  }

  /** Takes a place for a room of `type`, or throws ROOM_LIMIT (counted in mmo_rooms_refused_total). */
  acquire(type: string): void {
    const used = this.byType.get(type) ?? 0;
    const cap = this.limits.maxRoomsByType[type] ?? this.limits.maxRooms;
    if (this.total >= this.limits.maxRooms || used >= cap) {
      roomsRefused.inc({ type });
      throw new ServerError(JoinErrorCodes.ROOM_LIMIT, `this server hosts as many ${type} rooms as it may (${Math.min(cap, this.limits.maxRooms)}); try again later`);
    }
    this.total++;
    this.created++;
    this.byType.set(type, used + 1);
  }

  release(type: string): void {
    const used = this.byType.get(type) ?? 0;
    if (used <= 0) return;
    this.total--;
    this.byType.set(type, used - 1);
  }

  count(type?: string): number {
    return type === undefined ? this.total : (this.byType.get(type) ?? 0);
  }
}

/** The process's budget; `configure` sets its caps at start (arena.config.ts). No cap until then. */
export const roomBudget = new RoomBudget({ maxRooms: Infinity, maxRoomsByType: {} });
