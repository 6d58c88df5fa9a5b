import { type AuthContext, type Client, CloseCode, Room, ServerError, logger } from "@colyseus/core";
import { z } from "zod";
import { joinGate } from "../ops/admission";
import { roomBudget } from "../ops/roomBudget";
import { creatorOf, roomsPerAddress, stampCreator } from "../ops/roomsPerAddress";
import { logRoomError, refusedJoin } from "../ops/roomLog";
import { Backend, findExecutable } from "./Backend";
import { clientLine, fillTemplate, parseServerLine } from "./frames";
import { ClientRate, OutputBudget } from "./OutputBudget";
import { type ProcessRoomConfig, type ProcessRoomSettings, RESERVED_TYPES, processRoomSchema } from "./settings";

/** Room names from the URL (`?room=NAME`, or ScaleSocket's `ws://host/NAME`). */
const roomName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).default("default");
/** The query string a ScaleSocket client connected with (the backend's QUERY_STRING). */
const queryString = z.string().max(1024).default("");

/** A plain WebSocket client (ScaleSocket's own clients): text frames both ways. */
export interface PlainSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** A room nobody joined within this closes (it was created for a seat or socket never used). */
const EMPTY_ROOM_SECONDS = 15;

/** What a client of the room is to the backend: its small integer id and its query. */
interface Member {
  id: number;
  query: URLSearchParams;
  rate: ClientRate;
  /** Set for a plain WebSocket client; SDK clients are Colyseus clients. */
  plain?: PlainSocket;
  /** Closed for flooding: its frames still in flight are dropped unread. */
  closed?: boolean;
  /** Its address (the backend's REMOTE_ADDR), barred from joining for a while when it floods. */
  ip: string;
}

/** Why a client over its message or byte rate is closed. */
const TOO_FAST = "too many messages or bytes per second";

/**
 * Game logic in any language, ScaleSocket style: one backend process per room, JSON lines
 * on stdin/stdout (ScaleSocket's `--json` framing by default).
 *
 * Every client gets a small integer id, unique in the room. To the backend's stdin: the
 * join message (`--joinmsg`, e.g. `{"t":"Join","_from":3}`) when a client connects, the
 * leave message when it goes, and each client message as a JSON object with `_from` added
 * (`room.send("Input", {x, y})` arrives as `{"t":"Input","data":{"x":..,"y":..},"_from":3}`).
 * From stdout, each line is parsed: `_to` sends it to that client only, `_meta: true` stores
 * it as the room's metadata instead of sending it, anything else goes to everyone (SDK clients
 * receive it as a message whose type is its `t`, or "message").
 *
 * No client can crash, fill, freeze or end it. Each frame is charged to its sender's message
 * and byte rates before anything parses it, and a sender over either is closed (4002 for SDK
 * clients, 1008 for plain sockets), never answered forever; a frame over `maxMessageBytes` is
 * refused by the socket itself. What passes is decoded once, its depth counted in one walk
 * without allocation, and a message JSON cannot carry (BigInt), too deep or too big is refused
 * with `error`; reserved event types too; backpressure on the backend's stdin; output budgets
 * per recipient; a crashed
 * backend restarts with backoff and a backend that cannot run closes the room with a clear
 * error. The backend sees only the variables it is given (`passenv` and the CGI variables
 * ROOM, QUERY_STRING, REMOTE_ADDR) and its whole process group ends with the room.
 */
export class ProcessRoom extends Room {
  settings!: ProcessRoomConfig;
  /** The room name (rooms by URL). */
  name = "default";
  /** What the backend last published with `_meta: true`. */
  meta?: Record<string, unknown>;
  private backend?: Backend;
  private readonly members = new Map<string, Member>();
  private readonly byId = new Map<number, Client>();
  private readonly plains = new Map<number, Member>();
  private nextId = 1;
  private budget!: OutputBudget;
  private readonly cache: Array<{ type: string; payload: Record<string, unknown> }> = [];
  private budgetTaken = false;
  /** Gives back the quota place of the address that created this room (src/ops/roomsPerAddress.ts). */
  private releaseCreator = () => {};
  /** Counters of dropped or refused traffic, by reason (for logs and tests). */
  readonly dropped = { notJson: 0, tooLong: 0, flood: 0, busy: 0, refused: 0, flooders: 0 };

  /**
   * Validates `room` (and a ScaleSocket `query`) and keeps only those: they stay with the
   * seat. The client's address becomes `client.auth.ip` (the backend's REMOTE_ADDR).
   */
  static override async onAuth(_token: string, options: Record<string, unknown>, context: AuthContext) {
    if (options === null || typeof options !== "object") throw refusedJoin(400, "join options must be an object", "process");
    const room = roomName.safeParse(options.room);
    if (!room.success) throw refusedJoin(400, "room names are 1-64 letters, digits, _ and -", "process");
    const query = queryString.safeParse(options.query);
    if (!query.success) throw refusedJoin(400, "query: a string of at most 1024 characters", "process");
    for (const key of Object.keys(options)) delete options[key];
    Object.assign(options, { room: room.data, query: query.data });
    stampCreator(options, context);
    return { ip: String(context?.ip ?? "") };
  }

  override onCreate(options: { room?: string; process?: ProcessRoomSettings }): void {
    if (!options.process || !Array.isArray(options.process.command)) throw new Error("a process room needs a command");
    this.settings = processRoomSchema.parse(options.process);
    this.name = roomName.parse(options.room);
    if (this.settings.allowedRooms && !this.settings.allowedRooms.includes(this.name)) {
      throw new ServerError(404, `no room "${this.name}" here`);
    }
    const command = this.settings.command[0];
    if (!findExecutable(command, process.env.PATH, this.settings.cwd)) {
      throw new ServerError(503, `the backend of this room is not found (${command}): the server is misconfigured`);
    }
    // A backend process per room: a stranger naming a new room per request must not spawn without bound.
    this.releaseCreator = roomsPerAddress.charge(creatorOf(options), this.roomName ?? "process");
    roomBudget.acquire(this.roomName ?? "process");
    this.budgetTaken = true;
    this.maxClients = this.settings.maxClients;
    // Colyseus's flood guard counts an SDK client's frames before it decodes them and closes a
    // client over the budget (4002): the message rate is charged on the raw frame. (Its frames'
    // size is bounded by the transport's maxPayload before that; the byte rate is charged below.)
    this.maxMessagesPerSecond = this.settings.maxMessagesPerSecond;
    this.budget = new OutputBudget(this.settings.maxLinesPerSecond, this.settings.maxPrivateLinesPerSecond);
    void this.publish();
    this.onMessage("*", (client: Client, type: string | number, data: unknown) => this.fromClient(client, String(type), data));
    // Plain WebSocket clients are not Colyseus clients: the room closes itself when the last
    // member of either kind is gone, or when nobody came at all (a seat never used).
    this.autoDispose = false;
    this.clock.setTimeout(() => this.connections === 0 && void this.disconnect(), EMPTY_ROOM_SECONDS * 1000);
  }

  /** Adds a plain WebSocket client (ws://host/<room>?query); returns what to call on its frames and on its close. */
  attachPlain(socket: PlainSocket, query: string, ip: string): { receive(frame: Buffer, isBinary: boolean): void; detach(): void } {
    const member: Member = { ...this.newMember(query, ip), plain: socket };
    this.plains.set(member.id, member);
    for (const cached of this.cache) socket.send(JSON.stringify(cached.payload));
    this.joined(member, query);
    return {
      receive: (frame, isBinary) => this.fromPlain(member, frame, isBinary),
      detach: () => {
        if (!this.plains.delete(member.id)) return;
        this.left(member);
      },
    };
  }

  /** Members of both kinds. */
  get connections(): number {
    return this.members.size + this.plains.size;
  }

  override onJoin(client: Client, options: { query?: string } = {}, auth?: unknown): void {
    const ip = (auth as { ip?: string } | undefined)?.ip ?? (client.auth as { ip?: string } | undefined)?.ip ?? "";
    const member = this.newMember(options.query ?? "", ip);
    this.members.set(client.sessionId, member);
    this.byId.set(member.id, client);
    for (const cached of this.cache) client.send(cached.type, cached.payload);
    this.joined(member, options.query ?? "");
  }

  private newMember(query: string, ip: string): Member {
    const rate = new ClientRate(this.settings.maxMessagesPerSecond, this.settings.maxBytesPerSecond);
    return { id: this.nextId++, query: new URLSearchParams(query), rate, ip };
  }

  /** A member joined; the first one starts the backend (its query and address are the backend's QUERY_STRING and REMOTE_ADDR). */
  private joined(member: Member, query: string): void {
    if (!this.backend) this.startBackend(query, member.ip);
    else if (this.backend.running) this.announce(this.settings.joinmsg, member);
    void this.publish();
  }

  private left(member: Member): void {
    this.announce(this.settings.leavemsg, member);
    void this.publish();
    if (this.connections > 0) return;
    if (this.settings.cachePersist) {
      // The history stays for the next visitor; the backend goes, as in ScaleSocket.
      this.backend?.stop();
      this.backend = undefined;
    } else {
      this.cache.length = 0;
      void this.disconnect();
    }
  }

  override onLeave(client: Client): void {
    const member = this.members.get(client.sessionId);
    if (!member) return;
    this.members.delete(client.sessionId);
    this.byId.delete(member.id);
    this.left(member);
  }

  override onDispose(): void {
    if (this.budgetTaken) roomBudget.release(this.roomName ?? "process");
    this.budgetTaken = false;
    this.releaseCreator();
    this.backend?.stop();
    for (const member of this.plains.values()) member.plain!.close(1001, "the room closed");
    this.plains.clear();
  }

  override onUncaughtException(error: Error, methodName: string): void {
    logRoomError(`process ${this.name}`, error, methodName);
  }

  /** The backend's process id (tests check that it is gone after dispose). */
  get pid(): number | undefined {
    return this.backend?.pid;
  }

  /** The small integer id the backend knows a client by. */
  idOf(client: Client): number | undefined {
    return this.members.get(client.sessionId)?.id;
  }

  private startBackend(query: string, remoteAddr: string): void {
    const env: Record<string, string> = {};
    for (const name of this.settings.passenv) if (process.env[name] !== undefined) env[name] = process.env[name]!;
    Object.assign(env, { ROOM: this.name, QUERY_STRING: query, REMOTE_ADDR: remoteAddr });
    this.backend = new Backend(
      { ...this.settings, env, label: `process ${this.name}` },
      {
        line: (line) => this.fromBackend(line),
        tooLong: () => void this.dropped.tooLong++,
        // A (re)started backend learns who is here.
        started: () => {
          for (const member of [...this.members.values(), ...this.plains.values()]) this.announce(this.settings.joinmsg, member);
        },
        failed: (reason, code, signal) => {
          logger.warn(`[process ${this.name}] closing: ${reason}`);
          this.broadcast("error", { code: "BACKEND_UNAVAILABLE", message: reason });
          this.broadcast("process_exit", { code, signal, reason });
          for (const member of this.plains.values()) member.plain!.close(1011, reason.slice(0, 100));
          void this.disconnect();
        },
      },
    );
    this.backend.start();
  }

  private announce(template: string | undefined, member: Member): void {
    if (template) this.backend?.write(fillTemplate(template, member.id, member.query));
  }

  private fromClient(client: Client, type: string, data: unknown): void {
    const member = this.members.get(client.sessionId);
    if (!member || member.closed) return;
    const refuse = (message: string) => {
      this.dropped.refused++;
      client.send("error", { code: "BAD_REQUEST", message, request: type.slice(0, 64) });
    };
    if (RESERVED_TYPES.has(type)) return refuse(`"${type}" is sent by the server only`);
    // Bounded work before this: the frame was counted (maxMessagesPerSecond) and its size
    // bounded (maxPayload) before msgpack decoded it.
    const framed =
      this.settings.clientframe === "json"
        ? clientLine(data === undefined ? { t: type } : { t: type, data }, member.id, { maxDepth: this.settings.maxDepth, maxBytes: this.settings.maxMessageBytes })
        : typeof data === "string" && !data.includes("\n")
          ? ({ ok: true, line: data } as const)
          : ({ ok: false, reason: "this room takes text lines" } as const);
    if (!framed.ok) return refuse(framed.reason);
    if (!member.rate.allow(framed.line.length)) return this.closeFlooder(member, () => client.leave(CloseCode.WITH_ERROR, TOO_FAST));
    if (!this.backend?.write(framed.line)) {
      this.dropped.busy++;
      refuse("the backend is busy or not running: message dropped");
    }
  }

  /**
   * A plain client's frame. Charged to its rates first, on its raw size (over: the socket is
   * closed, 1008); then, and only then, decoded: a JSON object (JSON framing) or a line.
   */
  private fromPlain(member: Member, frame: Buffer, isBinary: boolean): void {
    if (member.closed) return;
    if (!member.rate.allow(frame.length)) return this.closeFlooder(member, () => member.plain!.close(1008, TOO_FAST));
    const refuse = (message: string) => {
      this.dropped.refused++;
      member.plain!.send(JSON.stringify({ t: "error", code: "BAD_REQUEST", message }));
    };
    if (isBinary) return refuse("this room takes text frames");
    const text = frame.toString();
    let line: string;
    if (this.settings.clientframe === "json") {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return refuse("not JSON");
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) return refuse("not a JSON object");
      const t = (value as { t?: unknown }).t;
      if (typeof t === "string" && RESERVED_TYPES.has(t)) return refuse(`"${t}" is sent by the server only`);
      const framed = clientLine(value as Record<string, unknown>, member.id, { maxDepth: this.settings.maxDepth, maxBytes: this.settings.maxMessageBytes });
      if (!framed.ok) return refuse(framed.reason);
      line = framed.line;
    } else {
      if (text.includes("\n") || text.length > this.settings.maxMessageBytes) return refuse("one line, at most maxMessageBytes");
      line = text;
    }
    if (!this.backend?.write(line)) {
      this.dropped.busy++;
      refuse("the backend is busy or not running: message dropped");
    }
  }

  /**
   * A client over its message or byte rate is closed once (its later frames are not looked
   * at), and its address may not join again for a while (admission's `joinGate`): coming
   * straight back would cost the server a new room and backend per flood.
   */
  private closeFlooder(member: Member, close: () => void): void {
    if (member.closed) return;
    member.closed = true;
    this.dropped.flooders++;
    joinGate.bar(member.ip);
    close();
  }

  private fromBackend(line: string): void {
    if (this.settings.serverframe === "none") {
      if (!this.budget.allow(undefined)) return void this.dropped.flood++;
      this.broadcast("message", line);
      for (const member of this.plains.values()) member.plain!.send(line);
      return;
    }
    const message = parseServerLine(line.trim());
    if (!message) {
      if (this.dropped.notJson++ % 100 === 0) logger.warn(`[process ${this.name}] dropped a line that is not a JSON object: ${line.slice(0, 120)}`);
      return;
    }
    if (message.meta) {
      const { _meta: _m, ...meta } = message.payload;
      this.meta = meta;
      void this.publish();
      return;
    }
    if (message.badTo) return;
    if (!this.budget.allow(message.to)) {
      if (this.dropped.flood++ % 1000 === 0) logger.warn(`[process ${this.name}] output flood: dropping lines`);
      return;
    }
    if (message.to === undefined) {
      this.broadcast(message.type, message.payload);
      for (const member of this.plains.values()) member.plain!.send(message.text);
      this.remember(message.type, message.payload, message.tagged);
    } else {
      this.byId.get(message.to)?.send(message.type, message.payload);
      this.plains.get(message.to)?.plain!.send(message.text);
    }
  }

  /** The room's listing (matchmaking, /monitor, ScaleSocket's /api): its name, connections and `_meta`. */
  private async publish(): Promise<void> {
    await this.setMetadata({ room: this.name, connections: this.connections, meta: this.meta ?? {} });
  }

  /** `--cache`: keeps the last messages for clients who join later. */
  private remember(type: string, payload: Record<string, unknown>, tagged: boolean): void {
    const cache = this.settings.cache;
    if (!cache || (cache.type === "tagged" && !tagged)) return;
    this.cache.push({ type, payload });
    if (this.cache.length > cache.size) this.cache.shift();
  }
}
