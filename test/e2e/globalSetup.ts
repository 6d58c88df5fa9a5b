import { execFileSync } from "node:child_process";
import { ROOT, ensureDebianPackage } from "../../scripts/lib";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Before the browser suite: Debian's Chromium must be there (installed here when running as
 * root, otherwise a failure naming the command), and client/dist must match its sources.
 * The browser tests never skip silently.
 */
export default function setup(): void {
  ensureDebianPackage(CHROMIUM, "chromium");
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale", "client"], { cwd: ROOT, stdio: "inherit" });
}
