import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { type Server, type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How long after its exit a backend's connections may still deliver output. */
const EXIT_GRACE_MS = 2000;

/**
 * Starts backend processes from a small helper process, the spawner, instead of from the
 * server itself.
 *
 * Why: `child_process.spawn` blocks the calling thread until the child has exec'd: libuv forks
 * the caller and waits for the exec. For the server (150-200 MB) that was 8-45 ms of frozen
 * event loop per backend on 2 busy cores, every room's patches and echoes waiting: a stranger
 * opening process rooms froze the server a little each time. The spawner is a bare Node
 * process (tens of MB, nothing else to do): it forks, the server does not wait.
 *
 * How a backend's stdio reaches the server without passing through the spawner: the server
 * listens on a Unix socket in a private directory (mode 0700); for each backend the spawner
 * connects twice, names the request in a first line, and hands the two connections to the
 * child as its stdin+stdout and its stderr. The server reads and writes them directly; the
 * spawner only reports the pid and the exit. A backend sees a socket where it used to see a
 * pipe: line-oriented programs (Python, `cat`, the JVM) read and write it the same way.
 *
 * Cost on the server: one IPC message and two accepted connections per backend start.
 */
export class Spawner {
  private helper?: ChildProcess;
  private listener?: Server;
  private dir?: string;
  private readonly starting = new Map<string, SpawnedProcess>();
  private readonly running = new Map<string, SpawnedProcess>();

  /** Starts `command` with `args` through the spawner; the process emits "spawn", "error" and "exit" like a ChildProcess. */
  spawn(command: string, args: string[], options: { cwd?: string; env: Record<string, string>; niceness: number }): SpawnedProcess {
    const id = randomUUID();
    const child = new SpawnedProcess();
    this.starting.set(id, child);
    try {
      const socketPath = this.ensureListening();
      this.ensureHelper().send({ id, command, args, cwd: options.cwd, env: options.env, niceness: options.niceness, socketPath });
    } catch (error) {
      this.starting.delete(id);
      queueMicrotask(() => child.fail(error as NodeJS.ErrnoException));
    }
    return child;
  }

  /** The spawner's own process id, once started (tests end it to see the server recover). */
  get helperPid(): number | undefined {
    return this.helper?.pid;
  }

  private ensureListening(): string {
    if (!this.dir) this.dir = mkdtempSync(join(tmpdir(), "mmo-spawner-"));
    const socketPath = join(this.dir, "stdio.sock");
    if (this.listener) return socketPath;
    // allowHalfOpen: a backend that closes its stdout may still read its stdin, as with a pipe.
    this.listener = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    this.listener.listen(socketPath);
    this.listener.unref();
    process.once("exit", () => this.dir && rmSync(this.dir, { recursive: true, force: true }));
    return socketPath;
  }

  private ensureHelper(): ChildProcess {
    if (this.helper && this.helper.connected) return this.helper;
    const helper = spawn(process.execPath, ["-e", SPAWNER_SOURCE], { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { PATH: process.env.PATH ?? "" } });
    helper.on("message", (m: SpawnerEvent) => this.onEvent(m));
    helper.on("exit", () => {
      if (this.helper !== helper) return;
      this.helper = undefined;
      // Requests it had not answered fail; running backends report their end when their stdout closes.
      for (const [id, child] of this.starting) {
        this.starting.delete(id);
        child.fail(Object.assign(new Error("the spawner exited"), { code: "ESPAWNER" }));
      }
      for (const [id, child] of this.running) {
        this.running.delete(id);
        child.exitWhenClosed();
      }
    });
    helper.unref();
    helper.channel?.unref();
    this.helper = helper;
    return helper;
  }

  /** A connection from the spawner: its first line names the request and the stream ("O": stdin+stdout, "E": stderr). */
  private accept(socket: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(10);
      if (end < 0) {
        if (head.length > 64) socket.destroy();
        return;
      }
      socket.off("data", onData);
      socket.pause();
      const line = head.subarray(0, end).toString();
      const rest = head.subarray(end + 1);
      if (rest.length > 0) socket.unshift(rest);
      const child = this.starting.get(line.slice(1)) ?? this.running.get(line.slice(1));
      if (!child || (line[0] !== "O" && line[0] !== "E")) return void socket.destroy();
      child.attach(line[0] === "O" ? "io" : "err", socket);
    };
    socket.on("data", onData);
    socket.on("error", () => {});
    socket.resume();
  }

  private onEvent(m: SpawnerEvent): void {
    const child = this.starting.get(m.id) ?? this.running.get(m.id);
    if (!child) return;
    if (m.event === "spawn") {
      this.starting.delete(m.id);
      this.running.set(m.id, child);
      child.spawned(m.pid);
    } else if (m.event === "error") {
      this.starting.delete(m.id);
      this.running.delete(m.id);
      child.fail(Object.assign(new Error(m.message), { code: m.code }));
    } else {
      this.running.delete(m.id);
      child.exited(m.code, m.signal);
    }
  }
}

type SpawnerEvent =
  | { id: string; event: "spawn"; pid: number }
  | { id: string; event: "error"; code?: string; message: string }
  | { id: string; event: "exit"; code: number | null; signal: NodeJS.Signals | null };

/**
 * A backend started by the spawner, shaped like the part of a ChildProcess a Backend uses:
 * `pid`, `stdin` and `stdout` (one socket), `stderr`, `exitCode`, `signalCode`, and the events
 * "spawn" (pid and streams ready), "error" and "exit".
 */
export class SpawnedProcess extends EventEmitter {
  pid?: number;
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private announced = false;
  private ended = false;

  /** @internal */
  attach(kind: "io" | "err", socket: Socket): void {
    if (kind === "io") this.stdin = this.stdout = socket;
    else this.stderr = socket;
    this.announce();
  }

  /** @internal */
  spawned(pid: number): void {
    this.pid = pid;
    this.announce();
  }

  /** "spawn" once the pid and both connections are here (they come by different ways, in any order). */
  private announce(): void {
    if (this.announced || this.pid === undefined || !this.stdout || !this.stderr) return;
    this.announced = true;
    this.stdout.resume();
    this.stderr.resume();
    this.emit("spawn");
  }

  /** @internal */
  fail(error: NodeJS.ErrnoException): void {
    this.stdout?.destroy();
    this.stderr?.destroy();
    this.emit("error", error);
  }

  /** @internal */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
    // The connections close once the output still in flight is read to its end (a ChildProcess's
    // 'exit' may come before its last output too), or after a grace period if something in the
    // backend's group still holds them (its group is killed on exit anyway).
    for (const socket of [this.stdout, this.stderr]) {
      if (!socket || socket.destroyed) continue;
      const close = () => socket.destroy();
      if (socket.readableEnded) close();
      else {
        socket.once("end", close);
        setTimeout(close, EXIT_GRACE_MS).unref();
      }
    }
  }

  /** @internal The spawner died: this backend's end is when its stdout ends (it exited, or closed it). */
  exitWhenClosed(): void {
    if (!this.stdout || this.stdout.readableEnded || this.stdout.destroyed) return this.exited(null, null);
    this.stdout.once("end", () => this.exited(null, null));
    this.stdout.once("close", () => this.exited(null, null));
  }
}

/**
 * The spawner's program (run with `node -e`): one request per IPC message; it connects to the
 * server's socket twice, then starts the backend with those connections as its stdio in a
 * process group of its own, lowers its priority, closes its own copies and reports.
 */
const SPAWNER_SOURCE = `
const { spawn } = require("node:child_process");
const net = require("node:net");
const os = require("node:os");
process.on("disconnect", () => process.exit(0));
const connect = (path, head) => new Promise((resolve, reject) => {
  const s = net.connect(path);
  s.once("error", reject);
  s.once("connect", () => s.write(head + "\\n", () => resolve(s)));
});
process.on("message", (m) => {
  const report = (event) => process.connected && process.send(Object.assign({ id: m.id }, event));
  Promise.all([connect(m.socketPath, "O" + m.id), connect(m.socketPath, "E" + m.id)]).then(([io, err]) => {
    let child;
    try {
      child = spawn(m.command, m.args, { cwd: m.cwd, env: m.env, stdio: [io, io, err], detached: true });
    } catch (e) {
      report({ event: "error", code: e.code, message: String(e.message) });
    }
    io.destroy();
    err.destroy();
    if (!child) return;
    child.on("error", (e) => report({ event: "error", code: e.code, message: String(e.message) }));
    child.on("spawn", () => {
      try { os.setPriority(child.pid, m.niceness); } catch {}
      report({ event: "spawn", pid: child.pid });
    });
    child.on("exit", (code, signal) => report({ event: "exit", code, signal }));
  }, (e) => report({ event: "error", code: e.code, message: String(e.message) }));
});
`;

/** The process's spawner (started on the first backend). */
export const spawner = new Spawner();
