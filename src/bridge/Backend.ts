import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { logger } from "@colyseus/core";
import { backendStarts } from "./SpawnPacer";
import { type SpawnedProcess, spawner } from "./Spawner";

export interface BackendOptions {
  command: string[];
  cwd?: string;
  /** The backend's whole environment (ScaleSocket: --passenv and the CGI variables). */
  env: Record<string, string>;
  maxLineBytes: number;
  /** Characters that end an output item ("\n"; "\0" for --null). */
  delimiters: string;
  maxPendingStdinBytes: number;
  maxRestarts: number;
  stableSeconds: number;
  /** For log lines. */
  label: string;
}

export interface BackendEvents {
  /** One complete stdout line (without its newline), at most maxLineBytes. */
  line(line: string): void;
  /** A (re)started backend is running: tell it who is here. */
  started(): void;
  /** An output line over maxLineBytes was dropped. */
  tooLong(): void;
  /** The backend cannot run (not found, or it crashed maxRestarts times in a row). */
  failed(reason: string, code: number | null, signal: NodeJS.Signals | null): void;
}

/** Stopping a backend: SIGTERM to its process group, SIGKILL after this. */
const KILL_GRACE_MS = 2000;

/** How much lower than the server a backend runs (nice 10: it gets CPU the server leaves). */
const BACKEND_NICENESS = 10;

/**
 * One backend process of a room: spawned in its own process group with exactly the
 * environment it is given, read line by line, written with backpressure, restarted with
 * exponential backoff (250 ms doubling to 10 s) after a crash, the count of consecutive
 * failures reset once it has run `stableSeconds`, and ended with its whole group.
 */
export class Backend {
  private child?: SpawnedProcess;
  private failures = 0;
  private startedAt = 0;
  private stopped = false;
  private pending = "";
  private skipping = false;
  private restartTimer?: NodeJS.Timeout;
  /** Lines dropped, by reason (tests and metrics read them). */
  readonly dropped = { tooLong: 0, busy: 0 };

  constructor(
    private readonly options: BackendOptions,
    private readonly events: BackendEvents,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && !this.starting && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the backend in its turn (`backendStarts`: one spawn at a time, process-wide). */
  start(): void {
    this.cancelStart();
    this.starting = true;
    this.cancelStart = backendStarts.schedule(() => this.spawnNow());
  }

  private cancelStart: () => void = () => {};
  /** From `start` until the process runs: lines are held (within maxPendingStdinBytes), then written after the join lines. */
  private starting = false;
  private held: string[] = [];
  private heldBytes = 0;

  private spawnNow(): void {
    if (this.stopped) return;
    const [cmd, ...args] = this.options.command;
    // Through the spawner (never blocks this event loop); in a process group of its own, so the
    // room can end the backend's children too; at a niceness below the server, so a burst of
    // backends starting takes the CPU the server leaves, not the server's.
    const child = spawner.spawn(cmd, args, { cwd: this.options.cwd, env: this.options.env, niceness: BACKEND_NICENESS });
    this.child = child;
    this.pending = "";
    this.skipping = false;
    this.startedAt = Date.now();
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (child !== this.child) return;
      this.starting = false;
      this.dropHeld();
      logger.error(`[${this.options.label}] could not run ${cmd}: ${e.message}`);
      if (e.code === "ENOENT" || e.code === "EACCES") {
        // It will never start: no restarts.
        this.stopped = true;
        this.events.failed(`the backend could not be started (${e.code})`, null, null);
      } else {
        this.onExit(child, null, null); // a failed start counts as a crash: backoff, then again
      }
    });
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    child.on("spawn", () => {
      if (child !== this.child) return;
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => this.onStdout(chunk));
      child.stdout!.on("error", () => {});
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) if (line.trim()) logger.info(`[${this.options.label}] ${line.slice(0, 500)}`);
      });
      child.stderr!.on("error", () => {});
      this.starting = false;
      this.events.started();
      for (const line of this.held) child.stdin!.write(line);
      this.dropHeld();
    });
  }

  /**
   * Writes one line to the backend's stdin. Returns false (and writes nothing) when the
   * backend is not running or already has `maxPendingStdinBytes` waiting: a backend that
   * does not read cannot make the server buffer without bound.
   */
  write(line: string): boolean {
    if (this.starting) {
      if (this.heldBytes + line.length + 1 > this.options.maxPendingStdinBytes) {
        this.dropped.busy++;
        return false;
      }
      this.held.push(`${line}\n`);
      this.heldBytes += line.length + 1;
      return true;
    }
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    if (stdin.writableLength > this.options.maxPendingStdinBytes) {
      this.dropped.busy++;
      return false;
    }
    stdin.write(`${line}\n`);
    return true;
  }

  /** Ends the backend and every process of its group (SIGTERM, then SIGKILL). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.cancelStart();
    this.starting = false;
    this.dropHeld();
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const group = -child.pid;
    signalGroup(group, "SIGTERM");
    setTimeout(() => signalGroup(group, "SIGKILL"), KILL_GRACE_MS).unref();
  }

  private dropHeld(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  private onExit(child: SpawnedProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    // What it left behind in its group goes with it.
    if (child.pid) signalGroup(-child.pid, "SIGKILL");
    if (this.stopped) return;
    logger.warn(`[${this.options.label}] backend exited (code ${code}, signal ${signal})`);
    if (Date.now() - this.startedAt >= this.options.stableSeconds * 1000) this.failures = 0;
    if (this.failures >= this.options.maxRestarts) {
      this.stopped = true;
      this.events.failed(`the backend exited ${this.failures + 1} times in a row`, code, signal);
      return;
    }
    const wait = Math.min(10_000, 250 * 2 ** this.failures);
    this.failures++;
    this.restartTimer = setTimeout(() => this.stopped || this.start(), wait);
  }

  private onStdout(chunk: string): void {
    this.pending += chunk;
    let i: number;
    while ((i = this.indexOfDelimiter()) >= 0) {
      const line = this.pending.slice(0, i);
      this.pending = this.pending.slice(i + 1);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (Buffer.byteLength(line) > this.options.maxLineBytes) {
        this.tooLong();
        continue;
      }
      if (line.trim()) this.events.line(line);
    }
    // A line that never ends is dropped once it is too long.
    if (Buffer.byteLength(this.pending) > this.options.maxLineBytes) {
      this.tooLong();
      this.pending = "";
      this.skipping = true;
    }
  }

  private indexOfDelimiter(): number {
    const d = this.options.delimiters;
    if (d.length === 1) return this.pending.indexOf(d);
    let first = -1;
    for (const c of d) {
      const i = this.pending.indexOf(c);
      if (i >= 0 && (first < 0 || i < first)) first = i;
    }
    return first;
  }

  private tooLong(): void {
    this.events.tooLong();
    if (this.dropped.tooLong++ % 100 === 0) logger.warn(`[${this.options.label}] dropped an output line over ${this.options.maxLineBytes} bytes`);
  }
}

/**
 * The executable a command names, as spawn would find it (a path, or a name on `PATH`), or
 * undefined: a room whose backend cannot exist is refused before it opens.
 */
export function findExecutable(command: string, path: string | undefined, cwd = process.cwd()): string | undefined {
  const candidates = command.includes("/") ? [isAbsolute(command) ? command : resolve(cwd, command)] : (path ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // The group is gone already.
  }
}
