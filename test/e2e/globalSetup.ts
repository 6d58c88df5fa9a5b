import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";
const INSTALL = "apt-get update && apt-get install -y chromium";

/**
 * Before the browser suite: Debian's Chromium must be there (installed here when running as
 * root, otherwise a failure naming the command), and client/dist must match its sources.
 * The browser tests never skip silently.
 */
export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    if (process.getuid?.() !== 0) {
      throw new Error(`Chromium is missing at ${CHROMIUM}. Install it with: sudo sh -c '${INSTALL}'`);
    }
    console.log(`Chromium is missing: running "${INSTALL}"`);
    execFileSync("sh", ["-c", `${INSTALL} >/tmp/chromium-install.log 2>&1`], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (!existsSync(CHROMIUM)) throw new Error(`apt-get ran but ${CHROMIUM} is still missing (see /tmp/chromium-install.log)`);
  }
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build-client.mjs"], { cwd: root, stdio: "inherit" });
}
