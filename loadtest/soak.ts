// `npm run soak`: a bounded soak (minutes; not part of `npm test`). The real server in one
// process; waves of SDK bots (loadtest/bots.ts) join one world, walk, chat and leave, again
// and again. After each wave (everyone gone) it reports the server's memory and open handles,
// so a leak shows as a column that keeps growing. Options: --waves 6, --bots 300, --steady 20.
import { cliOptions, startProcess, startServer, tsx } from "../scripts/lib";
import type { ProcessStats } from "../src/ops/processStats";

const { waves, bots, steady } = cliOptions(process.argv.slice(2), { numbers: { waves: 6, bots: 300, steady: 20 } });

async function main(): Promise<void> {
  const server = await startServer({ nodeArgs: ["--expose-gc"], env: { STATS_INTERVAL_MS: "1000", MMO_MATCHMAKE_PER_MINUTE: "1000000" } });
  let last: ProcessStats | undefined;
  server.onLine((line) => {
    if (line.startsWith("STATS ")) last = JSON.parse(line.slice(6)) as ProcessStats;
  });
  const deadline = setTimeout(() => {
    console.error("soak over its time limit: stopping");
    server.child.kill("SIGKILL");
    process.exit(2);
  }, (waves * (bots / 100 + steady + 30) + 60) * 1000);
  await new Promise((r) => setTimeout(r, 2000));
  const rows: string[] = ["| wave | joined / failed | disconnects | server RSS MB | heap MB | open handles |", "| --- | --- | --- | --- | --- | --- |"];
  const baseline = last!;
  rows.push(`| start | | | ${baseline.rssMB.toFixed(0)} | ${baseline.heapMB.toFixed(0)} | ${baseline.handles} |`);
  for (let w = 1; w <= waves; w++) {
    const botArgs = { endpoint: server.endpoint, bots, world: "soak", joinsPerSecond: 100, steadySeconds: steady };
    const botProc = await startProcess(...tsx("loadtest/bots.ts", JSON.stringify(botArgs)));
    let result: { joined: number; failed: number; disconnects: number } | undefined;
    botProc.onLine((line) => {
      if (line.startsWith("RESULT ")) result = JSON.parse(line.slice(7));
    });
    await botProc.exited;
    await new Promise((r) => setTimeout(r, 4000)); // everyone gone, a GC or two
    const s = last!;
    const row = `| ${w} | ${result?.joined ?? 0} / ${result?.failed ?? "?"} | ${result?.disconnects ?? "?"} | ${s.rssMB.toFixed(0)} | ${s.heapMB.toFixed(0)} | ${s.handles} |`;
    rows.push(row);
    console.log(row);
  }
  clearTimeout(deadline);
  await server.stop();
  console.log(`\n${rows.join("\n")}\n`);
  console.log("A leak shows as memory or handles that keep growing from wave to wave after everyone left.");
}

void main();
