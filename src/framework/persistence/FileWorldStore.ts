import * as fsPromises from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { join } from "node:path";
import { logger } from "@colyseus/core";
import { type WorldSnapshot, type WorldStore, checkWorldName, readSnapshot } from "./WorldStore";

/** The `node:fs/promises` functions the store uses; tests replace some to inject failures. */
export type FileStoreFs = Pick<typeof fsPromises, "open" | "readFile" | "rename" | "unlink" | "mkdir" | "link" | "copyFile" | "readdir" | "stat">;

export interface FileWorldStoreOptions {
  /** Replaces some of `node:fs/promises` (tests inject full disks and failing renames). */
  fs?: Partial<FileStoreFs>;
}

/** Temporary files of a crashed process older than this are removed (once per store, on its first save). */
const STALE_TEMP_MS = 60_000;
let tempCounter = 0;

/**
 * One JSON file per world under `dir`:
 *
 * - `world-<name>.json`: the world, always replaced atomically: written to a temporary file
 *   (`world-<name>.json.<pid>.<counter>.<random>.tmp`), fsync'ed, then renamed over the old
 *   one, so a crash or a full disk leaves the old or the new snapshot, never a partial one.
 *   A failed write removes its temporary file and throws (the room logs it and tries again).
 * - `world-<name>.prev.json`: the previous generation, kept by every save (a hard link to the
 *   old file, made before the rename, so the world is never without a readable file).
 * - `world-<name>.corrupt-<ISO time>.json`: a world file that did not parse, moved aside by
 *   `load`, which logs it and loads the previous generation instead (or a new world).
 *
 * Saves (and loads) of one world are serialised: each waits for the one before; saves queued
 * behind a running one are coalesced into one write of the newest snapshot.
 * To reset a world, delete its `.json` and `.prev.json` (with the server stopped).
 */
export class FileWorldStore implements WorldStore {
  private readonly fs: FileStoreFs;
  /** Per world: the last queued operation (resolves, never rejects). */
  private readonly tails = new Map<string, Promise<void>>();
  /** Per world: a save queued behind a running one, whose text later saves replace. */
  private readonly pending = new Map<string, { text: string; done: Promise<void> }>();
  private swept = false;
  /** Worlds whose previous generation could not be kept (logged once each). */
  private readonly rotationWarned = new Set<string>();

  constructor(
    readonly dir: string,
    options: FileWorldStoreOptions = {},
  ) {
    this.fs = { ...fsPromises, ...options.fs };
  }

  /** The world's file; world names are letters, digits, _ and - (checked at join and here): safe as file names. */
  private path(world: string, suffix = ".json"): string {
    checkWorldName(world);
    return join(this.dir, `world-${world}${suffix}`);
  }

  /** Runs `fn` after every operation queued before on `world`. */
  private serial<T>(world: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(world) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.tails.set(world, tail);
    void tail.then(() => {
      if (this.tails.get(world) === tail) this.tails.delete(world);
    });
    return run;
  }

  async load(world: string): Promise<WorldSnapshot | undefined> {
    this.path(world);
    return this.serial(world, () => this.read(world));
  }

  async save(world: string, snapshot: WorldSnapshot): Promise<void> {
    this.path(world);
    const text = JSON.stringify(snapshot);
    const waiting = this.pending.get(world);
    if (waiting) {
      // A save of this world is already queued and not started: it writes this newer snapshot.
      waiting.text = text;
      return waiting.done;
    }
    const entry = { text, done: Promise.resolve() };
    entry.done = this.serial(world, () => {
      if (this.pending.get(world) === entry) this.pending.delete(world);
      return this.write(world, entry.text);
    });
    this.pending.set(world, entry);
    return entry.done;
  }

  private async read(world: string): Promise<WorldSnapshot | undefined> {
    const file = this.path(world);
    const prev = this.path(world, ".prev.json");
    const text = await this.readIfExists(file);
    if (text === undefined) {
      // No world file: a new world, unless a previous generation is there (a crash, or the
      // file was deleted alone: to reset a world, delete both).
      const fallback = await this.readIfExists(prev);
      if (fallback === undefined) return undefined;
      const older = readSnapshot(fallback);
      logger.error(`[mmo store] world "${world}": ${file} is missing; ${older.snapshot ? `loading the previous generation ${prev}` : `the previous generation ${prev} is unreadable too (${older.problem}): starting a new world`}`);
      return older.snapshot;
    }
    const current = readSnapshot(text);
    if (current.snapshot) return current.snapshot;

    const aside = this.path(world, `.corrupt-${new Date().toISOString().replace(/:/g, "-")}.json`);
    let moved = `moved aside as ${aside}`;
    try {
      await this.fs.rename(file, aside);
    } catch (e) {
      moved = `could not be moved aside (${(e as Error).message})`;
    }
    const fallback = await this.readIfExists(prev);
    const older = fallback === undefined ? { problem: "missing" } : readSnapshot(fallback);
    logger.error(
      `[mmo store] world "${world}": ${file} is unreadable (${current.problem}); ${moved}; ` +
        (older.snapshot ? `loading the previous generation ${prev}` : `previous generation ${prev}: ${older.problem}; starting a new world`),
    );
    return older.snapshot;
  }

  private async readIfExists(file: string): Promise<string | undefined> {
    try {
      return await this.fs.readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  private async write(world: string, text: string): Promise<void> {
    const target = this.path(world);
    await this.fs.mkdir(this.dir, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      await this.sweepStaleTemps();
    }
    const tmp = this.tempName(target);
    try {
      const file = await this.fs.open(tmp, "wx", 0o644);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await this.keepPrevious(world, target);
      await this.fs.rename(tmp, target);
    } catch (e) {
      await this.removeQuietly(tmp);
      throw e;
    }
    await this.syncDir();
  }

  /** `<target>.<pid>.<counter>.<random>.tmp`: unique across processes, saves and milliseconds. */
  private tempName(target: string): string {
    tempCounter = (tempCounter + 1) % Number.MAX_SAFE_INTEGER;
    return `${target}.${process.pid}.${tempCounter}.${randomBytes(4).toString("hex")}.tmp`;
  }

  /**
   * The current world file becomes the previous generation while staying in place: a hard
   * link (a copy where links are not supported) under a temporary name, renamed over
   * `.prev.json`. Failing to keep it does not stop the save (logged once per world).
   */
  private async keepPrevious(world: string, target: string): Promise<void> {
    const prevTmp = this.tempName(this.path(world, ".prev.json"));
    try {
      try {
        await this.fs.link(target, prevTmp);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return; // the first save: no previous generation yet
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EMLINK") throw e;
        await this.fs.copyFile(target, prevTmp);
      }
      await this.fs.rename(prevTmp, this.path(world, ".prev.json"));
      // rename() does nothing when both names are links to one file (the world file was not
      // replaced since the last save failed): the temporary name would stay.
      await this.removeQuietly(prevTmp);
    } catch (e) {
      await this.removeQuietly(prevTmp);
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      if (!this.rotationWarned.has(world)) {
        this.rotationWarned.add(world);
        logger.warn(`[mmo store] world "${world}": could not keep the previous generation (${(e as Error).message}); saving without it`);
      }
    }
  }

  /** Makes the renames durable (best effort: not every platform can fsync a directory). */
  private async syncDir(): Promise<void> {
    try {
      const dir = await this.fs.open(this.dir, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // not supported here
    }
  }

  /** Removes `world-*.tmp` files older than a minute: left by a process killed mid-write. */
  private async sweepStaleTemps(): Promise<void> {
    try {
      const now = Date.now();
      for (const name of await this.fs.readdir(this.dir)) {
        if (!/^world-[A-Za-z0-9_-]+(\.prev)?\.json\.\d+\.\d+\.[0-9a-f]+\.tmp$/.test(name)) continue;
        const file = join(this.dir, name);
        const { mtimeMs } = await this.fs.stat(file).catch(() => ({ mtimeMs: now }));
        if (now - mtimeMs > STALE_TEMP_MS) await this.removeQuietly(file);
      }
    } catch {
      // best effort
    }
  }

  private async removeQuietly(file: string): Promise<void> {
    try {
      await this.fs.unlink(file);
    } catch {
      // already gone (or never created)
    }
  }

  toJSON(): string {
    return `[FileWorldStore ${this.dir}]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}
