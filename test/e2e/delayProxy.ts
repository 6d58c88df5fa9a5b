import { type IncomingMessage, type Server, createServer, request } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { freePort } from "./browser";

/**
 * A front for the game server that delays every message `delayMs` in each direction, like
 * an internet path: HTTP (the page, matchmaking) one whole request and response at a time,
 * and room WebSockets message by message (in order). Pages load the game from it, so the
 * client's server address (the page's origin) is the proxy.
 */
export async function delayProxy(target: string, delayMs: number): Promise<{ base: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const later = (fn: () => void) => setTimeout(fn, delayMs);
  const sockets = new Set<WebSocket>();

  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on("data", (chunk: Buffer) => body.push(chunk));
    req.on("end", () =>
      later(() => {
        const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const reply: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => reply.push(chunk));
          answer.on("end", () =>
            later(() => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(reply));
            }),
          );
        });
        out.on("error", () => later(() => res.writeHead(502).end()));
        out.end(Buffer.concat(body));
      }),
    );
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (client) => {
      const headers = { host: req.headers.host ?? "", origin: req.headers.origin ?? "" };
      const server = new WebSocket(`ws://${upstream.host}${req.url}`, { headers });
      sockets.add(client).add(server);
      const pending: Array<[Buffer, boolean]> = [];
      // Each direction: every message `delayMs` later, in the order it came.
      client.on("message", (data: Buffer, binary: boolean) =>
        later(() => (server.readyState === WebSocket.OPEN ? server.send(data, { binary }) : pending.push([data, binary]))),
      );
      server.on("open", () => {
        for (const [data, binary] of pending.splice(0)) server.send(data, { binary });
      });
      server.on("message", (data: Buffer, binary: boolean) => later(() => client.readyState === WebSocket.OPEN && client.send(data, { binary })));
      const closeBoth = (code: number, reason: Buffer) =>
        later(() => {
          const sendable = code >= 3000 && code <= 4999 ? code : 1000;
          for (const ws of [client, server]) if (ws.readyState === WebSocket.OPEN) ws.close(sendable, reason);
        });
      client.on("close", closeBoth);
      server.on("close", closeBoth);
      client.on("error", () => server.terminate());
      server.on("error", () => client.terminate());
    });
  });

  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return {
    base: `http://localhost:${port}`,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
