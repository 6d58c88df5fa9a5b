import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { matchMaker } from "@colyseus/core";
import { type RawData, WebSocketServer } from "ws";
import type { ProcessRoom } from "../ProcessRoom";
import { CREATOR_OPTION } from "../../ops/roomsPerAddress";

/** Paths that are HTTP only: a WebSocket upgrade there is refused. */
const HTTP_ONLY = /^\/(api|metrics|health)(\/|$)/;
const ROOM_PATH = /^\/([A-Za-z0-9_-]{1,64})\/?$/;
/** Bytes waiting to go out to one plain client above which it is closed (1008). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * ScaleSocket's own clients: a plain WebSocket to `ws://HOST/<room>?query`, JSON text frames.
 * Upgrades on a single-segment path without a Colyseus `sessionId` are answered here and
 * attached to the process room of that name on this process (created if needed); every
 * other upgrade (Colyseus's `/<processId>/<roomId>?sessionId=...`) goes on to Colyseus.
 * Wrapping the server's `emit("upgrade")` runs before Colyseus's own upgrade listener.
 */
export function servePlainClients(
  server: Server,
  options: {
    roomType: string;
    maxMessageBytes: number;
    allowed?: (room: string) => boolean;
    admitJoin(req: IncomingMessage): Promise<boolean>;
    addressOf(req: IncomingMessage): string;
  },
): void {
  // A frame over the message limit is refused by the socket (1009) before a byte of it is
  // kept: no larger frame could be a message the room accepts.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  const creating = new Map<string, Promise<ProcessRoom>>();
  const emit = server.emit.bind(server) as (event: string, ...args: unknown[]) => boolean;
  server.emit = ((event: string, ...args: unknown[]) => {
    if (event !== "upgrade") return emit(event, ...args);
    const [req, socket, head] = args as [IncomingMessage, Duplex, Buffer];
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      // `GET //` and the like: never let a malformed request line throw out of here.
      return refuse(socket, 400, "bad request");
    }
    if (HTTP_ONLY.test(url.pathname.toLowerCase())) return refuse(socket, 400, "not a WebSocket endpoint");
    if (url.search.length > 1025) return refuse(socket, 400, "the query string is limited to 1024 characters");
    const match = ROOM_PATH.exec(url.pathname);
    if (!match || url.searchParams.has("sessionId")) return emit(event, ...args);
    const name = match[1];
    if (options.allowed && !options.allowed(name)) return refuse(socket, 404, "no such room");
    accept(req, socket, head, name, url.search.slice(1)).catch(() => refuse(socket, 503, "could not join"));
    return true;
  }) as Server["emit"];

  /** Attaches an upgraded socket to its room; a refusal is an HTTP answer to the upgrade. */
  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer, name: string, query: string): Promise<void> {
    // A plain join counts against the client's matchmaking budget, as an SDK join does.
    if (!(await options.admitJoin(req))) return void refuse(socket, 429, "too many joins: retry later");
    let room: ProcessRoom;
    try {
      room = await roomFor(name, query, options.addressOf(req));
    } catch (e) {
      return void refuse(socket, 503, (e as Error).message);
    }
    if (room.connections >= room.settings.maxClients) return void refuse(socket, 503, "this room is full");
    wss.handleUpgrade(req, socket, head, (ws) => {
      const handle = room.attachPlain(
        {
          send: (text) => {
            if (ws.readyState !== ws.OPEN) return;
            // A client that does not read cannot make the server buffer for it without bound.
            if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, "not reading");
            ws.send(text);
          },
          close: (code, reason) => ws.close(code, reason),
        },
        query,
        // The address admission counted (admitJoin stamped it), not one the client chose.
        String(req.headers["x-real-ip"] ?? req.socket.remoteAddress ?? ""),
      );
      // Every frame, text or binary, is charged to the client before it is decoded.
      ws.on("message", (data, isBinary) => handle.receive(toBuffer(data), isBinary));
      ws.on("close", () => handle.detach());
      ws.on("error", () => handle.detach());
    });
  }

  /** The local process room of that name, created on first use (one creation at a time per name). */
  function roomFor(name: string, query: string, creator: string): Promise<ProcessRoom> {
    let pending = creating.get(name);
    if (!pending) {
      pending = (async () => {
        const [listed] = await matchMaker.query({ name: options.roomType, room: name } as never);
        if (listed) {
          const local = matchMaker.getLocalRoomById(listed.roomId) as unknown as ProcessRoom | undefined;
          if (!local) throw new Error("this room lives on another process: route /<room> to it (see README)");
          return local;
        }
        // Charged to the client's address, as a matchmaking creation is (src/ops/roomsPerAddress.ts).
        const created = await matchMaker.createRoom(options.roomType, { room: name, query, [CREATOR_OPTION]: creator });
        return matchMaker.getLocalRoomById(created.roomId) as unknown as ProcessRoom;
      })().finally(() => creating.delete(name));
      creating.set(name, pending);
    }
    return pending;
  }
}

/** A frame as one Buffer (ws hands fragmented or ArrayBuffer frames in other shapes). */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function refuse(socket: Duplex, status: number, message: string): true {
  const text: Record<number, string> = { 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests" };
  socket.end(`HTTP/1.1 ${status} ${text[status] ?? "Service Unavailable"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
  return true;
}
