import type { AuthContext, Client } from "@colyseus/core";
import { addressKey } from "../ops/admission";

/**
 * A room's view of where a client connects from, for limits per address (players held for
 * reconnection). It is Colyseus's `context.ip`, which reads X-Real-IP first: admission
 * (src/ops/admission.ts) replaces that header on every request and upgrade with the address it
 * counts (the socket's, or with TRUST_PROXY the one the trusted proxies name), so a client
 * cannot choose it. An IPv6 client counts by its /64, as in the HTTP rate limits.
 */
const addresses = new WeakMap<Client, string>();

/** Notes where a joining client connects from (the room's onAuth: the WebSocket's own context). */
export function rememberClientAddress(client: Client, context: AuthContext | undefined): void {
  addresses.set(client, addressKey(context?.ip ?? "unknown"));
}

/** Where a client connects from, if onAuth noted it (a player handed over by a region is not). */
export function addressOf(client: Client): string | undefined {
  return addresses.get(client);
}
