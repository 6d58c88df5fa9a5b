import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { type WorldSnapshot, type WorldStore, parseSnapshot } from "./WorldStore";

/**
 * One JSON file per world under `dir`, written atomically: to a temporary file, fsync'ed,
 * then renamed over the old one, so a crash leaves either the old or the new snapshot.
 */
export class FileWorldStore implements WorldStore {
  constructor(readonly dir: string) {}

  private path(world: string): string {
    // World names are letters, digits, _ and - (checked at join): safe as file names.
    return join(this.dir, `world-${world}.json`);
  }

  async load(world: string): Promise<WorldSnapshot | undefined> {
    try {
      return parseSnapshot(await readFile(this.path(world), "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async save(world: string, snapshot: WorldSnapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.path(world);
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    const file = await open(tmp, "w");
    try {
      await file.writeFile(JSON.stringify(snapshot));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, target);
  }
}
