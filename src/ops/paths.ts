import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project's root directory: the nearest folder above this module that holds a
 * package.json. The same answer whether the server runs from its sources (src/ops/) or
 * from the build (dist/server/, one bundled file), so paths such as client/dist do not
 * depend on where the code was compiled to or on the working directory.
 */
export function projectRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
