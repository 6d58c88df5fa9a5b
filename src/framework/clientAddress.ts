import type { IncomingMessage } from "node:http";
import type { AuthContext, Client } from "@colyseus/core";
import { clientIp } from "../ops/admission";
import { colyseusInternals } from "./serializer/colyseusInternals";

/**
 * A room's view of where a client connects from, for limits per address (players held for
 * reconnection). Colyseus's own `context.ip` believes X-Real-IP and X-Forwarded-For from
 * anyone, so a client could name any address it likes; this is the socket's address, or, with
 * TRUST_PROXY, the one the trusted proxies name: the same rule as the HTTP rate limits
 * (`clientIp`, an IPv6 client by its /64).
 */

/** How many proxies in front are trusted to name the client (TRUST_PROXY; set once at start). */
let trustedProxies = 0;

/** Called where the server is configured (arena.config.ts), with TRUST_PROXY. */
export function trustProxiesForAddresses(count: number): void {
  trustedProxies = count;
}

const addresses = new WeakMap<Client, string>();

/** Notes where a joining client connects from (the room's onAuth: the WebSocket's own context). */
export function rememberClientAddress(client: Client, context: AuthContext | undefined): void {
  addresses.set(client, clientAddress(client, context));
}

/** Where a client connects from, if onAuth noted it (a player handed over by a region is not). */
export function addressOf(client: Client): string | undefined {
  return addresses.get(client);
}

/** The address `client` connects from, as the rate limits see it. */
export function clientAddress(client: Client, context: AuthContext | undefined): string {
  const remoteAddress = colyseusInternals.socketAddressOf(client) ?? "unknown";
  const forwardedFor = context?.headers?.get("x-forwarded-for") ?? undefined;
  const request = { socket: { remoteAddress }, headers: { "x-forwarded-for": forwardedFor } };
  return clientIp(request as unknown as IncomingMessage, trustedProxies);
}
