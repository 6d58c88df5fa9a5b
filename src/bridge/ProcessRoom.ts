import { type ChildProcess, spawn } from "node:child_process";
import { type Client, Room, logger } from "@colyseus/core";
import { roomBudget } from "../ops/roomBudget";
import { refusedJoin } from "../ops/roomLog";
import { z } from "zod";

/** How a process room runs its backend. */
export const processRoomSchema = z
  .object({
    /** The backend command and its arguments, e.g. ["python3", "examples/bunny/server.py"]. */
    command: z.array(z.string().min(1)).min(1),
    /** Working directory of the backend (default: the server's). */
    cwd: z.string().optional(),
    /** Times the backend is restarted after it exits; then the room closes. */
    maxRestarts: z.number().int().min(0).default(0),
    /** A stdout line longer than this (bytes) is dropped. */
    maxLineBytes: z.number().int().positive().default(64 * 1024),
    /** Lines per second the backend may print; beyond, lines are dropped (and counted). */
    maxLinesPerSecond: z.number().int().positive().default(2000),
    maxClients: z.number().int().positive().default(100),
  })
  .strict();
export type ProcessRoomSettings = z.input<typeof processRoomSchema>;

/** Room names from the URL (`?room=NAME`). */
const roomName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).default("default");

/**
 * Game logic in any language, ScaleSocket style: one backend process per room, speaking
 * line-delimited JSON.
 *
 * To the backend's stdin, one JSON object per line:
 * - `{"t":"Connect","id":ID,"_from":ID}` when a client joins,
 * - `{"t":"Disconnect","id":ID,"_from":ID}` when it leaves,
 * - `{"t":TYPE,"id":ID,"_from":ID,"data":PAYLOAD}` for each client message
 *   (`room.send(TYPE, PAYLOAD)`).
 * `_from` is ScaleSocket's `--json` name for the sender; `id` says the same.
 *
 * From the backend's stdout, each line is parsed as JSON and sent to every client, or only to
 * the client whose id is in `"_to"` (the field is stripped). Clients receive it as a message
 * whose type is the line's `"t"` (a string), or "message" without one. Lines that are not
 * JSON objects, longer than `maxLineBytes`, or beyond `maxLinesPerSecond` are logged and
 * dropped. stderr goes to the server log with the room id. When the backend exits, it is
 * restarted up to `maxRestarts` times; then the clients get `process_exit {code, signal}`
 * and the room closes.
 */
export class ProcessRoom extends Room {
  settings!: z.output<typeof processRoomSchema>;
  /** The `room` join option (rooms by URL). */
  name = "default";
  private child?: ChildProcess;
  private restarts = 0;
  private closing = false;
  private budgetTaken = false;
  private pending = "";
  private linesThisSecond = 0;
  private secondStartedAt = 0;
  /** Counters of dropped stdout lines, by reason (for logs and tests). */
  readonly dropped = { notJson: 0, tooLong: 0, flood: 0 };

  /** Validates `room` and keeps only it: the validated options are what stays with the seat. */
  static override async onAuth(_token: string, options: Record<string, unknown>) {
    if (options === null || typeof options !== "object") throw refusedJoin(400, "join options must be an object", "process");
    const parsed = roomName.safeParse(options.room);
    if (!parsed.success) throw refusedJoin(400, "room names are 1-64 letters, digits, _ and -", "process");
    for (const key of Object.keys(options)) delete options[key];
    options.room = parsed.data;
    return true;
  }

  override onCreate(options: { room?: string; process?: ProcessRoomSettings }): void {
    if (!options.process || !Array.isArray(options.process.command)) throw new Error("a process room needs a command");
    // A backend process per room: a stranger naming a new room per request must not spawn without bound.
    roomBudget.acquire(this.roomName ?? "process");
    this.budgetTaken = true;
    this.settings = processRoomSchema.parse(options.process);
    this.name = roomName.parse(options.room);
    this.maxClients = this.settings.maxClients;
    void this.setMetadata({ room: this.name });
    this.onMessage("*", (client: Client, type: string | number, data: unknown) => {
      this.write({ t: String(type), id: client.sessionId, _from: client.sessionId, data });
    });
    this.startProcess();
  }

  override onJoin(client: Client): void {
    this.write({ t: "Connect", id: client.sessionId, _from: client.sessionId });
  }

  override onLeave(client: Client): void {
    this.write({ t: "Disconnect", id: client.sessionId, _from: client.sessionId });
  }

  override onDispose(): void {
    if (this.budgetTaken) roomBudget.release(this.roomName ?? "process");
    this.budgetTaken = false;
    this.closing = true;
    this.stopProcess();
  }

  /** The backend's process id (tests check it is gone after dispose). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private startProcess(): void {
    const [cmd, ...args] = this.settings.command;
    const child = spawn(cmd, args, { cwd: this.settings.cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.pending = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line.trim()) logger.info(`[process ${this.roomId}] ${line}`);
    });
    child.stdin!.on("error", () => {}); // EPIPE when the backend is gone: the exit handler reports it
    child.on("error", (e) => logger.error(`[process ${this.roomId}] could not run ${cmd}: ${e.message}`));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
  }

  private stopProcess(): void {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    child.kill("SIGTERM");
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, 2000).unref();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child || this.closing) return;
    logger.warn(`[process ${this.roomId}] backend exited (code ${code}, signal ${signal})`);
    if (this.restarts < this.settings.maxRestarts) {
      this.restarts++;
      this.startProcess();
      // The new backend learns who is here.
      for (const client of this.clients) this.write({ t: "Connect", id: client.sessionId, _from: client.sessionId });
      return;
    }
    this.closing = true;
    this.broadcast("process_exit", { code, signal });
    void this.disconnect();
  }

  private write(event: Record<string, unknown>): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return;
    stdin.write(`${JSON.stringify(event)}\n`);
  }

  private onStdout(chunk: string): void {
    this.pending += chunk;
    let i: number;
    while ((i = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, i);
      this.pending = this.pending.slice(i + 1);
      this.onLine(line);
    }
    // A line that never ends is dropped once it is too long.
    if (Buffer.byteLength(this.pending) > this.settings.maxLineBytes) {
      this.dropped.tooLong++;
      logger.warn(`[process ${this.roomId}] dropped an output line over ${this.settings.maxLineBytes} bytes`);
      this.pending = "";
      this.skipRestOfLine = true;
    }
  }

  /** True after dropping the start of an overlong line, until its end arrives. */
  private skipRestOfLine = false;

  private onLine(raw: string): void {
    if (this.skipRestOfLine) {
      this.skipRestOfLine = false;
      return;
    }
    const line = raw.trim();
    if (!line) return;
    const now = Date.now();
    if (now - this.secondStartedAt >= 1000) {
      this.secondStartedAt = now;
      this.linesThisSecond = 0;
    }
    if (++this.linesThisSecond > this.settings.maxLinesPerSecond) {
      if (this.dropped.flood++ % 1000 === 0) logger.warn(`[process ${this.roomId}] output flood: dropping lines`);
      return;
    }
    if (Buffer.byteLength(line) > this.settings.maxLineBytes) {
      this.dropped.tooLong++;
      logger.warn(`[process ${this.roomId}] dropped an output line over ${this.settings.maxLineBytes} bytes`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = undefined;
    }
    if (message === null || typeof message !== "object" || Array.isArray(message)) {
      this.dropped.notJson++;
      logger.warn(`[process ${this.roomId}] dropped a line that is not a JSON object: ${line.slice(0, 120)}`);
      return;
    }
    const { _to: to, ...rest } = message as Record<string, unknown>;
    const type = typeof rest.t === "string" && rest.t ? rest.t : "message";
    if (to === undefined) {
      this.broadcast(type, rest);
      return;
    }
    const target = this.clients.getById(String(to));
    if (target) target.send(type, rest);
  }
}
