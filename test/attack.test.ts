import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";

// `npm run attack -- --quick`: every scenario of the security issue against a fresh real
// server each, with an honest player walking meanwhile. The scenarios are also tests one by
// one (admission, integrity, names, signals, worldStore, identity); this runs the suite as an
// operator would and checks its verdict: the server stayed up and nothing was lost.
it("npm run attack -- --quick: the server stays up and loses nothing in every scenario", () => {
  const out = execFileSync("npm", ["run", "--silent", "attack", "--", "--quick"], { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "pipe"] });
  const summary = out.split("\n").find((l) => l.startsWith("ATTACK SUMMARY"))!;
  console.log(out.split("\n").filter((l) => l.startsWith("|")).join("\n"));
  const [, scenarios, up, lost] = /(\d+) scenarios, server up in (\d+), data lost in (\d+)/.exec(summary)!;
  expect(Number(scenarios)).toBeGreaterThanOrEqual(22);
  expect(Number(up)).toBe(Number(scenarios));
  expect(Number(lost)).toBe(0);
  expect(out).not.toMatch(/\| NO \|/);
}, 620_000);
