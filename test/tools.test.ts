import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

// The benchmark and load-test harnesses, run small, so they keep working from a fresh clone.
const run = (args: string[], timeout: number) =>
  execFileSync("npm", ["run", "--silent", ...args], { encoding: "utf8", timeout, stdio: ["ignore", "pipe", "pipe"] });

describe("harnesses", () => {
  it("npm run bench -- --quick compares the four strategies on a small scene", () => {
    const out = run(["bench", "--", "--quick"], 120_000);
    for (const s of ["broadcast", "stock", "stock+grid", "ours"]) expect(out).toMatch(new RegExp(`quick-200 \\(200\\+200\\) \\| ${s.replace("+", "\\+")} \\|`));
    // Ours sends what the AoI needs: far below broadcast, close to the exact-AoI lower bound.
    const ours = out.split("\n").find((l) => l.includes("| ours |"))!.split("|").map((c) => c.trim());
    const broadcast = out.split("\n").find((l) => l.includes("| broadcast |"))!.split("|").map((c) => c.trim());
    const bytes = (cells: string[]) => Number(cells[7].split("/")[0]);
    expect(bytes(broadcast) / bytes(ours)).toBeGreaterThan(5);
    expect(Number(ours[9])).toBeLessThan(1.5);
  }, 150_000);

  it("npm run loadtest with 20 bots: all join, patches flow, the server is measured", () => {
    const out = run(["loadtest", "--", "--bots", "20", "--steady", "3", "--join-rate", "40", "--no-write"], 120_000);
    const line = out.split("\n").find((l) => l.startsWith("joined "))!;
    expect(line).toMatch(/^joined 20\/20, failed 0, disconnects 0/);
    const patches = Number(/([\d.]+) patches\/s per client/.exec(line)![1]);
    expect(patches).toBeGreaterThan(5); // a 50 ms patch rate gives up to 20
    expect(out).toMatch(/Largest count that held: 20/);
  }, 150_000);
});
