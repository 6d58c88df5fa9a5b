// `npm run attack`: every scenario of the security issue against a real server on 127.0.0.1,
// bounded in count and time, each on a fresh server (production mode, default limits), while
// an honest player walks and counts its patches and an honest process-bridge client times its
// echoes. Prints a table: scenario, requests sent, refused, server up, RSS delta, the honest
// player's patch rate and the honest echo's p99 during the attack, data lost.
// `--quick` runs smaller counts (the test suite runs it so); `--only TEXT` the scenarios named so.
import { cliOptions, residentMB as rssMB, startServer } from "../scripts/lib";
import { HonestEcho, HonestPlayer } from "./attack/honest";
import { SCENARIOS } from "./attack/scenarios";

// `--only TEXT`: the scenarios whose name contains TEXT (case ignored), e.g. `--only flood`.
const argv = process.argv.slice(2);
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1]?.toLowerCase() : undefined;
const opts = cliOptions(argv, { numbers: {}, flags: ["quick"] });
const SCENARIO_TIMEOUT_MS = 120_000;


async function up(endpoint: string): Promise<boolean> {
  return fetch(`${endpoint}/healthz`).then((r) => r.ok, () => false);
}

interface Row {
  scenario: string;
  sent: number;
  refused: number;
  up: boolean;
  rssDeltaMB: number;
  honestPatchesPerSecond: number;
  echoP99Ms: number;
  lost: string;
  note: string;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const scenario of SCENARIOS.filter((sc) => !only || sc.name.toLowerCase().includes(only))) {
    const server = await startServer({ env: { GAME_GEMS: "50", GAME_NPCS: "5", PROCESS_COMMAND: `${process.execPath} test/fixtures/echo-backend.mjs`, ...scenario.env } });
    try {
      const honest = await HonestPlayer.join(server.endpoint, "attack");
      const echo = await HonestEcho.join(server.endpoint);
      await new Promise((r) => setTimeout(r, 1000));
      const rss0 = await rssMB(server.endpoint);
      honest.startWindow();
      echo.startWindow();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("scenario timed out")), SCENARIO_TIMEOUT_MS));
      const started = Date.now();
      const outcome = await Promise.race([scenario.run({ server, honest, quick: opts.quick }), timeout]);
      // The honest player's rate over at least 3 s (a quick scenario would measure noise),
      // or until the end of a scenario that stops the server.
      if (outcome.up === undefined) await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - started))));
      const rate = honest.rate();
      const row: Row = {
        scenario: scenario.name,
        sent: outcome.sent,
        refused: outcome.refused,
        up: outcome.up ?? ((await up(server.endpoint)) && honest.connected),
        rssDeltaMB: outcome.up === undefined ? (await rssMB(server.endpoint)) - rss0 : 0,
        honestPatchesPerSecond: rate,
        echoP99Ms: outcome.echoP99Ms ?? echo.p99(),
        lost: outcome.lost === undefined ? "-" : outcome.lost ? "yes" : "no",
        note: outcome.note,
      };
      rows.push(row);
      console.log(`${row.scenario}: sent ${row.sent}, refused ${row.refused}, up ${row.up}, RSS ${row.rssDeltaMB.toFixed(1)} MB, honest ${row.honestPatchesPerSecond.toFixed(1)} patches/s, echo p99 ${row.echoP99Ms.toFixed(1)} ms, lost ${row.lost}`);
      await Promise.all([honest.leave(), echo.leave()]);
    } finally {
      await server.stop("SIGKILL");
    }
  }
  console.log("\n| scenario | sent | refused | server up | RSS delta MB | honest patches/s | echo p99 ms | data lost | notes |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.sent} | ${r.refused} | ${r.up ? "yes" : "NO"} | ${r.rssDeltaMB.toFixed(1)} | ${r.honestPatchesPerSecond.toFixed(1)} | ${Number.isFinite(r.echoP99Ms) ? r.echoP99Ms.toFixed(1) : "-"} | ${r.lost} | ${r.note} |`);
  }
  const ok = rows.every((r) => r.up && r.lost !== "yes");
  console.log(`\nATTACK SUMMARY: ${rows.length} scenarios, server up in ${rows.filter((r) => r.up).length}, data lost in ${rows.filter((r) => r.lost === "yes").length}, min honest rate ${Math.min(...rows.map((r) => r.honestPatchesPerSecond)).toFixed(1)} patches/s, max echo p99 ${Math.max(...rows.map((r) => (Number.isFinite(r.echoP99Ms) ? r.echoP99Ms : 0))).toFixed(1)} ms, max RSS delta ${Math.max(...rows.map((r) => r.rssDeltaMB)).toFixed(1)} MB`);
  process.exitCode = ok ? 0 : 1;
}

void main();
