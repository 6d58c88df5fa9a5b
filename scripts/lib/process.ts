import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { onLines } from "./lines";

/** The repository root: every tool and test runs its children from here. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Node arguments that run a TypeScript file with tsx, on the Node that runs us (node@22 under npm). */
export function tsx(script: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ["--import", "tsx", script, ...args]];
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Its own process group (`process.kill(-pid, signal)` reaches it and everything it started). */
  detached?: boolean;
  /** Resolve once a stdout or stderr line contains this (else at once). */
  ready?: string;
  /** How long to wait for `ready` (ms, default 30 s). */
  readyMs?: number;
  /** Every output line also goes to `echo` (e.g. a prefixed console.log). */
  echo?: (line: string) => void;
}

/** A child process started by a tool or a test, with its output kept and a clean stop. */
export interface ManagedProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Calls `fn` with each stdout line from now on. */
  onLine(fn: (line: string) => void): void;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts `cmd args` (in the repository root unless `cwd`); resolves when it prints `ready`; rejects if it exits first. */
export async function startProcess(cmd: string, args: string[], opts: StartOptions = {}): Promise<ManagedProcess> {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"], detached: opts.detached });
  let out = "";
  const listeners: Array<(line: string) => void> = [];
  const keep = (line: string) => {
    out += `${line}\n`;
    opts.echo?.(line);
  };
  onLines(child.stdout, (line) => {
    keep(line);
    for (const fn of listeners) fn(line);
  });
  onLines(child.stderr, keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const managed: ManagedProcess = {
    child,
    output: () => out,
    onLine: (fn) => void listeners.push(fn),
    stop: (signal, graceMs) => stopProcess(child, signal, graceMs),
    exited,
  };
  if (opts.ready) await waitForOutput(managed, opts.ready, opts.readyMs ?? 30_000);
  return managed;
}

/** Resolves when the process has printed `text`; rejects if it exits first or after `ms`. */
export function waitForOutput(p: ManagedProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (p.output().includes(text)) done(resolve);
    }, 20);
    const deadline = setTimeout(() => done(() => reject(new Error(`no "${text}" within ${ms} ms:\n${p.output().slice(-2000)}`))), ms);
    void p.exited.then((code) => done(() => (p.output().includes(text) ? resolve() : reject(new Error(`exited with ${code} before "${text}":\n${p.output().slice(-2000)}`)))));
    let finished = false;
    function done(fn: () => void): void {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      clearTimeout(deadline);
      fn();
    }
  });
}

/** Sends `signal` (default SIGTERM), waits for the exit, and SIGKILLs after `graceMs` (default 15 s). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
