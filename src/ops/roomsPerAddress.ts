import { type AuthContext, ServerError } from "@colyseus/core";
import { JoinErrorCodes } from "../shared/codes";
import { ADMITTED_ADDRESS_HEADER, addressKey } from "./admission";
import { roomsRefusedPerAddress } from "./metrics";

/**
 * Rooms one client address created, live on this process, against a quota (all room types
 * together): each `mmo` world costs memory (about 2 MB idle for the demo game) and each
 * `process` room a backend process, so a stranger naming a new room in every matchmaking call
 * cannot fill the process's caps (MMO_MAX_WORLDS, PROCESS_MAX_ROOMS) alone.
 *
 * The address is the one admission (src/ops/admission.ts) decided for the request, with
 * TRUST_PROXY and IPv6 /64 applied, carried in ADMITTED_ADDRESS_HEADER (admission overwrites
 * whatever a client sent there). A room's static `onAuth` copies it into the join options
 * (`stampCreator`), `onCreate` charges it (`charge`), and the release it gets back runs in
 * `onDispose`. Rooms the server creates itself (a region's room for a handoff, a drained
 * region's new room, a room from code) carry no address and are charged to nobody.
 */
export class RoomsPerAddress {
  private readonly live = new Map<string, number>();

  constructor(private limit: number) {}

  /** Sets the quota (arena.config.ts, at start). */
  configure(limit: number): void {
    this.limit = limit;
  }

  /**
   * Charges a new room of `type` to the address that asked for it, or throws ROOMS_PER_ADDRESS
   * (429, counted in mmo_rooms_refused_per_address_total). Returns its release (idempotent).
   */
  charge(address: string | undefined, type: string): () => void {
    if (address === undefined) return () => {};
    const used = this.live.get(address) ?? 0;
    if (used >= this.limit) {
      roomsRefusedPerAddress.inc({ type });
      throw new ServerError(
        JoinErrorCodes.ROOMS_PER_ADDRESS,
        `your address has created as many live rooms on this server as it may (${this.limit}): join one of them, or wait until one closes`,
      );
    }
    this.live.set(address, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.live.get(address) ?? 1) - 1;
      if (left > 0) this.live.set(address, left);
      else this.live.delete(address);
    };
  }

  /** Live rooms charged to `address`. */
  count(address: string): number {
    return this.live.get(address) ?? 0;
  }
}

/** The process's quota; `configure` sets it at start (arena.config.ts). No limit until then. */
export const roomsPerAddress = new RoomsPerAddress(Infinity);

/** The join option a room's static `onAuth` puts the requesting address in (after it dropped every option of the client's). */
export const CREATOR_OPTION = "creatorAddress";

/** In a static `onAuth`: the address of the client asking (from admission's header) into the options, for `onCreate`. */
export function stampCreator(options: Record<string, unknown>, context: AuthContext | undefined): void {
  const address = context?.headers?.get(ADMITTED_ADDRESS_HEADER);
  if (address) options[CREATOR_OPTION] = addressKey(address);
}

/** In `onCreate`: the address `stampCreator` put in the options, if any. */
export function creatorOf(options: object | undefined): string | undefined {
  const address = (options as Record<string, unknown> | undefined)?.[CREATOR_OPTION];
  return typeof address === "string" && address !== "" ? address : undefined;
}
