import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics of this process (`/metrics`). Every series carries a `process` label
 * (set at start: the Colyseus processId and the public address), so one scrape config can
 * watch a whole cluster.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "mmo_node_" });

/** Live MMO rooms of this process, for the gauges below. */
export const liveRooms = new Set<{ clients: { length: number }; limboCount(): number }>();

new Gauge({
  name: "mmo_rooms",
  help: "MMO rooms (worlds) hosted by this process",
  registers: [registry],
  collect() {
    this.set(liveRooms.size);
  },
});
new Gauge({
  name: "mmo_clients",
  help: "Connected clients in this process's MMO rooms",
  registers: [registry],
  collect() {
    let n = 0;
    for (const r of liveRooms) n += r.clients.length;
    this.set(n);
  },
});
new Gauge({
  name: "mmo_clients_in_limbo",
  help: "Users who joined but have not set a position yet",
  registers: [registry],
  collect() {
    let n = 0;
    for (const r of liveRooms) n += r.limboCount();
    this.set(n);
  },
});

export const patchSeconds = new Histogram({
  name: "mmo_patch_encode_seconds",
  help: "Time to encode and hand out one state patch to every client of a room",
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [registry],
});
export const aoiSeconds = new Histogram({
  name: "mmo_aoi_update_seconds",
  help: "Time of one proximity (AoI) pass in onBeforePatch, StateView updates included",
  buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
  registers: [registry],
});
export const bytesSent = new Counter({
  name: "mmo_patch_bytes_sent_total",
  help: "State patch bytes handed to client sockets",
  registers: [registry],
});
export const handoffs = new Counter({
  name: "mmo_handoffs_total",
  help: "Players handed between region rooms, by result: offered (seat reserved, client told), completed (the neighbour has it), failed (no seat: retried)",
  labelNames: ["result"],
  registers: [registry],
});

export const messagesRejected = new Counter({
  name: "mmo_messages_rejected_total",
  help: "Client messages refused, by error code",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const httpRefused = new Counter({
  name: "mmo_http_refused_total",
  help: "HTTP requests refused before Colyseus saw them (rate limit, body size, cross-origin monitor)",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const roomsRefused = new Counter({
  name: "mmo_rooms_refused_total",
  help: "Room creations refused because this process holds its cap of live rooms",
  labelNames: ["type"] as const,
  registers: [registry],
});
export const roomsRefusedPerAddress = new Counter({
  name: "mmo_rooms_refused_per_address_total",
  help: "Room creations refused because the client's address already created MMO_ROOMS_PER_ADDRESS live rooms on this process",
  labelNames: ["type"] as const,
  registers: [registry],
});
