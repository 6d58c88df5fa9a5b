// `npm run soak`: a bounded soak (minutes; not part of `npm test`). The real server in one
// process; waves of SDK bots (loadtest/bots.ts) join one world, walk, chat and leave, again
// and again. After each wave (everyone gone) it reports the server's memory and open handles,
// so a leak shows as a column that keeps growing. Options: --waves 6, --bots 300, --steady 20.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, numberOption, onLines } from "../scripts/lib";
import type { ProcessStats } from "../src/processStats";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => numberOption(argv, name, fallback);
const waves = opt("waves", 6);
const bots = opt("bots", 300);
const steady = opt("steady", 20);



async function main(): Promise<void> {
  const port = await freePort();
  const server = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "src/index.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      NODE_ENV: "production",
      STATS_INTERVAL_MS: "1000",
      MONITOR_PASSWORD: "soak",
      MMO_DATA_DIR: mkdtempSync(join(tmpdir(), "mmo-soak-data-")),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let last: ProcessStats | undefined;
  const listening = new Promise<void>((resolve) =>
    onLines(server, (line) => {
      if (line.includes("Listening on")) resolve();
      if (line.startsWith("STATS ")) last = JSON.parse(line.slice(6)) as ProcessStats;
    }),
  );
  const deadline = setTimeout(() => {
    console.error("soak over its time limit: stopping");
    server.kill("SIGKILL");
    process.exit(2);
  }, (waves * (bots / 100 + steady + 30) + 60) * 1000);
  await listening;
  await new Promise((r) => setTimeout(r, 2000));
  const rows: string[] = ["| wave | joined / failed | disconnects | server RSS MB | heap MB | open handles |", "| --- | --- | --- | --- | --- | --- |"];
  const baseline = last!;
  rows.push(`| start | | | ${baseline.rssMB.toFixed(0)} | ${baseline.heapMB.toFixed(0)} | ${baseline.handles} |`);
  for (let w = 1; w <= waves; w++) {
    const botProc = spawn(
      process.execPath,
      ["--import", "tsx", "loadtest/bots.ts", JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, bots, world: "soak", joinsPerSecond: 100, steadySeconds: steady })],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let result: { joined: number; failed: number; disconnects: number } | undefined;
    onLines(botProc, (line) => {
      if (line.startsWith("RESULT ")) result = JSON.parse(line.slice(7));
    });
    await new Promise((r) => botProc.once("exit", r));
    await new Promise((r) => setTimeout(r, 4000)); // everyone gone, a GC or two
    const s = last!;
    const row = `| ${w} | ${result?.joined ?? 0} / ${result?.failed ?? "?"} | ${result?.disconnects ?? "?"} | ${s.rssMB.toFixed(0)} | ${s.heapMB.toFixed(0)} | ${s.handles} |`;
    rows.push(row);
    console.log(row);
  }
  clearTimeout(deadline);
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  console.log(`\n${rows.join("\n")}\n`);
  console.log("A leak shows as memory or handles that keep growing from wave to wave after everyone left.");
}

void main();
