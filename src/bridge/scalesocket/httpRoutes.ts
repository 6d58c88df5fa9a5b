import { matchMaker } from "@colyseus/core";
import express, { type Application } from "express";
import { Gauge, Registry } from "prom-client";

interface Listing {
  roomId: string;
  metadata?: { room?: string; connections?: number; meta?: Record<string, unknown> };
}

/** The rooms of this type, cluster-wide, as ScaleSocket's API shows them. */
async function rooms(roomType: string): Promise<Array<{ name: string; connections: number; metadata: Record<string, unknown> }>> {
  const listed = (await matchMaker.query({ name: roomType })) as unknown as Listing[];
  return listed.map((l) => ({ name: l.metadata?.room ?? l.roomId, connections: l.metadata?.connections ?? 0, metadata: l.metadata?.meta ?? {} }));
}

/**
 * ScaleSocket's HTTP side: `/health`, `--api` (`/api/rooms/`, `/api/<room>/`,
 * `/api/<room>/connections`, `/api/<room>/metadata`), `--metrics` (OpenMetrics, ending in
 * `# EOF`) and `--staticdir`. A GET on a room path that is no file is a 404.
 */
export function scaleSocketRoutes(app: Application, options: { roomType: string; api: boolean; metrics: boolean; staticdir?: string }): void {
  app.get("/health", (_req, res) => void res.json({ status: "ok" }));
  if (options.api) {
    app.get("/api/rooms/", async (_req, res) => void res.json(await rooms(options.roomType)));
    app.get(/^\/api\/([A-Za-z0-9_-]+)\/(connections|metadata)?$/, async (req, res) => {
      const [name, field] = [req.params[0], req.params[1]] as [string, string | undefined];
      const room = (await rooms(options.roomType)).find((r) => r.name === name);
      if (!room) return void res.status(404).json({ error: "no such room" });
      if (field === "connections") return void res.json(room.connections);
      if (field === "metadata") return void res.json(room.metadata);
      res.json(room.metadata);
    });
  }
  if (options.metrics) {
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    new Gauge({
      name: "scalesocket_rooms",
      help: "Rooms (backend processes) of this server",
      registers: [registry],
      async collect() {
        this.set((await rooms(options.roomType)).length);
      },
    });
    new Gauge({
      name: "scalesocket_websocket_connections",
      help: "Clients connected to the rooms",
      registers: [registry],
      async collect() {
        this.set((await rooms(options.roomType)).reduce((n, r) => n + r.connections, 0));
      },
    });
    app.get("/metrics", async (_req, res) => void res.type(registry.contentType).send(await registry.metrics()));
  }
  if (options.staticdir) app.use(express.static(options.staticdir));
}
