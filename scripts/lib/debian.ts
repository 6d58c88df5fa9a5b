import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Makes sure `binary` exists, installing Debian's `pkg` with apt-get when it does not and we
 * are root (CI and this project's machines are); otherwise fails naming the command to run.
 */
export function ensureDebianPackage(binary: string, pkg: string): void {
  if (existsSync(binary)) return;
  const install = `apt-get update && apt-get install -y ${pkg}`;
  if (process.getuid?.() !== 0) throw new Error(`${binary} is missing. Install it with: sudo sh -c '${install}'`);
  const log = join(tmpdir(), `apt-${pkg}.log`);
  console.log(`${binary} is missing: running "${install}" (log: ${log})`);
  execFileSync("sh", ["-c", `${install} > ${log} 2>&1`], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (!existsSync(binary)) throw new Error(`apt-get ran but ${binary} is still missing (see ${log})`);
}
