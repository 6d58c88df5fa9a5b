// `npm run loadtest -- --regions 2 [--bots 400] [--steady 40] [--join-rate 100] [--cross 0.25]
// [--split-first] [--no-write]`: one world split into 2 x 1 region rooms on two game processes
// sharing a Redis of our own (presence and matchmaking driver, as scripts/cluster.ts), against
// the same world as one room on one process (no Redis, as the plain load test), same bots, back
// to back in one invocation (one room first unless --split-first). The bots
// (loadtest/regionBots.ts) are in a process of their own; a share of them walk back and forth
// across the border. Writes loadtest/regions-results.md (and .json) unless --no-write.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type ManagedProcess, ROOT as root, type ServerProcess, freePort, metricsText, startProcess, startRedis, startServer, tsx } from "../scripts/lib";
import { type ProcessStats, bucketPercentile } from "../src/ops/processStats";
import type { RegionBotArgs, RegionBotResult } from "./regionBots";

export interface RegionsOptions {
  regions: number;
  bots: number;
  steady: number;
  joinRate: number;
  cross: number;
  splitFirst: boolean;
  noWrite: boolean;
}

/** The default map (6400 x 6400, src/framework/settings.ts), split on x only. */
const MAP = { w: 6400, h: 6400 };
const SWING = 300;
const FAIL_AFTER_MS = 5000;
/** The demo game's gems and NPCs per world (arena.config.ts): a split world gets its share per region, so both runs hold the same items. */
const GEMS = 300;
const NPCS = 60;

interface ProcessResult {
  name: string;
  endpoint: string;
  regions: string[];
  cpu: number;
  rssMB: number;
  lagMedianMs: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** mmo_handoffs_total over the measured window, by result. */
  handoffs: Record<string, number>;
  /** mmo_handoffs_total at the end of the run (whole run). */
  handoffsTotal: Record<string, number>;
  /** Lines of its output that report an error (a stack's first line), whole run. */
  errors: number;
}

interface RunResult {
  kind: "one room" | "split";
  world: string;
  bots: RegionBotResult;
  processes: ProcessResult[];
  /** Where each region's room lives, after seeding and at the end. */
  placement: { seeded: Record<string, string>; atEnd: Record<string, string>; distinct: boolean };
  redisCpu?: number;
  /** The whole machine over the window: busy share of all cores, and the load average at its end (others' jobs included). */
  machine: { busyShare: number; cores: number; loadAvg1: number; ownCpu: number };
  /** Processes of ours that ended before the run stopped them. */
  early: string[];
}

const f = (n: number, d = 1) => n.toFixed(d);
const regionLabel = (r: string) => (r === "" ? '"" (x < 3200)' : `${r} (x >= 3200)`);

/** mmo_handoffs_total by result, from a process's /metrics. */
async function handoffMetric(endpoint: string): Promise<Record<string, number>> {
  const text = await metricsText(endpoint).catch(() => "");
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^mmo_handoffs_total\{[^}]*\bresult="(\w+)"[^}]*\} (\S+)$/gm)) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

/** The window's delta; empty when the process no longer answered at the end (it died). */
const minus = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.keys(a).length === 0 && Object.keys(b).length > 0 ? {} : Object.fromEntries(["offered", "completed", "failed"].map((k) => [k, (a[k] ?? 0) - (b[k] ?? 0)]));

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), to tell how busy the cores were. */
function machineTicks(): { busy: number; total: number } {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The mmo rooms in the driver (Redis): region -> the endpoint of the process hosting it. */
async function placementOf(redisUrl: string, world: string, byAddress: Map<string, string>): Promise<Record<string, string>> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const all = await redis.hgetall("roomcaches");
    const out: Record<string, string> = {};
    for (const text of Object.values(all)) {
      const room = JSON.parse(text) as { name: string; publicAddress?: string; processId: string; metadata?: { world?: string; region?: string } };
      if (room.name !== "mmo" || room.metadata?.world !== world) continue;
      const where = byAddress.get(room.publicAddress ?? "") ?? `process ${room.processId}`;
      const region = room.metadata.region ?? "";
      out[region] = out[region] ? `${out[region]} + ${where}` : where;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

function summarise(stats: ProcessStats[], t0: number, t1: number): Pick<ProcessResult, "cpu" | "rssMB" | "lagMedianMs" | "lagP99Ms" | "lagMaxMs"> {
  const window = stats.filter((s) => s.at > t0 && s.at <= t1 + 500);
  const lags = new Map<number, number>();
  for (const s of window) for (const [ms, n] of Object.entries(s.lagBuckets)) lags.set(Number(ms), (lags.get(Number(ms)) ?? 0) + n);
  return {
    cpu: window.reduce((a, s) => a + s.cpu, 0) / (window.length || 1),
    rssMB: Math.max(0, ...window.map((s) => s.rssMB)),
    lagMedianMs: bucketPercentile(lags, 0.5),
    lagP99Ms: bucketPercentile(lags, 0.99),
    lagMaxMs: Math.max(0, ...window.map((s) => s.lagMs.max)),
  };
}

async function runOnce(kind: RunResult["kind"], o: RegionsOptions, worldsFile: string): Promise<RunResult> {
  const split = kind === "split";
  const n = split ? o.regions : 1;
  const world = split ? "split" : "single";
  const regionNames = split ? ["", ...Array.from({ length: n - 1 }, (_, i) => `${i + 1}_0`)] : [""];
  const started: { redis?: Awaited<ReturnType<typeof startRedis>>; servers: ServerProcess[]; bots?: ManagedProcess } = { servers: [] };
  const early: string[] = [];
  let stopping = false;
  const deadline = setTimeout(
    () => {
      console.error("regions load test over its time limit: stopping everything it started");
      for (const s of started.servers) s.child.kill("SIGKILL");
      started.bots?.child.kill("SIGKILL");
      started.redis?.kill();
      process.exit(2);
    },
    (o.bots / o.joinRate + o.steady + 180) * 1000,
  );
  try {
    if (split) {
      started.redis = await startRedis();
      const pid = started.redis.pid;
      const watch = setInterval(() => {
        try {
          process.kill(pid, 0);
        } catch {
          if (!stopping) {
            early.push(`redis (pid ${pid}) gone at ${new Date().toISOString()}`);
            console.error(`[redis] GONE (pid ${pid})`);
          }
          clearInterval(watch);
        }
      }, 500);
      watch.unref();
    }
    const secret = randomBytes(32).toString("base64url");
    const stats = new Map<string, ProcessStats[]>();
    const errorLines = new Map<string, number>();
    const names: string[] = [];
    const byAddress = new Map<string, string>();
    for (let i = 1; i <= n; i++) {
      const name = split ? `p${i}` : "p1";
      const port = await freePort();
      const server = await startServer({
        port,
        env: {
          STATS_INTERVAL_MS: "1000",
          MMO_MATCHMAKE_PER_MINUTE: "1000000",
          MMO_WORLDS_FILE: worldsFile,
          MMO_DRAIN_SECONDS: "0",
          GAME_GEMS: String(Math.round(GEMS / n)),
          GAME_NPCS: String(Math.round(NPCS / n)),
          ...(started.redis && { REDIS_URL: started.redis.url, PUBLIC_ADDRESS: `127.0.0.1:${port}`, IDENTITY_SECRET: secret }),
        },
        // Errors, warnings and refusals (with their stacks), not the banner nor the STATS lines;
        // error lines (stdout and stderr) are counted.
        echo: (line) => {
          if (/^(\[[^\]]*\] [\w.]+: )?\w*Error\b/.test(line)) errorLines.set(name, (errorLines.get(name) ?? 0) + 1);
          if (/error|warn|refused|exit|handoff|shutting|closing|\s+at /i.test(line) && !line.startsWith("STATS ")) console.error(`[${name}] ${line}`);
        },
      });
      started.servers.push(server);
      names.push(name);
      // A game process that ends before we stop it is a finding: say how (code or signal) and when.
      server.child.once("exit", (code, signal) => {
        if (!stopping) {
          early.push(`${name} exited early (code ${code}, signal ${signal}) at ${new Date().toISOString()}`);
          console.error(`[${name}] EXITED EARLY: code ${code}, signal ${signal}`);
        }
      });
      byAddress.set(`127.0.0.1:${port}`, name);
      const list: ProcessStats[] = [];
      stats.set(name, list);
      server.onLine((line) => line.startsWith("STATS ") && list.push(JSON.parse(line.slice(6)) as ProcessStats));
    }
    const botArgs: RegionBotArgs = {
      endpoints: started.servers.map((s) => s.endpoint),
      world,
      regions: regionNames,
      bots: o.bots,
      joinsPerSecond: o.joinRate,
      steadySeconds: o.steady,
      crossShare: o.cross,
      borderX: MAP.w / 2,
      swing: SWING,
      mapHeight: MAP.h,
      failAfterMs: FAIL_AFTER_MS,
      seedGapMs: 2500,
    };
    let seeded: Record<string, string> = { "": "p1" };
    let seededDone: () => void = () => {};
    const seededSeen = new Promise<void>((r) => (seededDone = r));
    let steadyStart = 0;
    let steadyEnd = 0;
    let result: RegionBotResult | undefined;
    const before = new Map<string, Record<string, number>>();
    const windowDelta = new Map<string, Record<string, number>>();
    let redisCpu0 = 0;
    let redisCpu: number | undefined;
    let ticks0 = machineTicks();
    const machine = { busyShare: 0, cores: os.cpus().length, loadAvg1: 0, ownCpu: 0 };
    const bots = await startProcess(...tsx("loadtest/regionBots.ts", JSON.stringify(botArgs)), {
      echo: (line) => /^(SEEDED|STEADY_|RESULT )/.test(line) || console.error(`[bots] ${line}`),
    });
    started.bots = bots;
    const pending: Promise<unknown>[] = [];
    bots.onLine((line) => {
      if (line === "SEEDED") seededDone();
      else if (line.startsWith("STEADY_START ")) {
        steadyStart = Number(line.slice(13));
        if (started.redis) redisCpu0 = cpuSeconds(started.redis.pid);
        ticks0 = machineTicks();
        pending.push(Promise.all(started.servers.map(async (s, i) => before.set(names[i], await handoffMetric(s.endpoint)))));
      } else if (line.startsWith("STEADY_END ")) {
        steadyEnd = Number(line.slice(11));
        if (started.redis) redisCpu = (cpuSeconds(started.redis.pid) - redisCpu0) / ((steadyEnd - steadyStart) / 1000);
        const ticks1 = machineTicks();
        machine.busyShare = (ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total || 1);
        machine.loadAvg1 = os.loadavg()[0];
        pending.push(Promise.all(started.servers.map(async (s, i) => windowDelta.set(names[i], minus(await handoffMetric(s.endpoint), before.get(names[i]) ?? {})))));
      } else if (line.startsWith("RESULT ")) result = JSON.parse(line.slice(7)) as RegionBotResult;
    });
    await Promise.race([seededSeen, bots.exited]);
    if (started.redis) seeded = await placementOf(started.redis.url, world, byAddress);
    const code = await bots.exited;
    await Promise.all(pending);
    if (!result) throw new Error(`the bot process ended (${code}) without a result`);
    const atEnd = started.redis ? await placementOf(started.redis.url, world, byAddress) : seeded;
    const hosts = regionNames.map((r) => seeded[r]);
    const distinct = !split || (hosts.every((h) => h && !h.includes("+")) && new Set(hosts).size === hosts.length);
    const processes: ProcessResult[] = [];
    for (let i = 0; i < started.servers.length; i++) {
      const name = names[i];
      processes.push({
        name,
        endpoint: started.servers[i].endpoint,
        regions: regionNames.filter((r) => (atEnd[r] ?? "").split(" + ").includes(name)),
        ...summarise(stats.get(name) ?? [], steadyStart, steadyEnd),
        handoffs: windowDelta.get(name) ?? {},
        handoffsTotal: await handoffMetric(started.servers[i].endpoint),
        errors: errorLines.get(name) ?? 0,
      });
    }
    // What this test itself used, in cores: the game processes, the bots and Redis.
    machine.ownCpu = processes.reduce((a, p) => a + p.cpu, 0) + result.botCpu + (redisCpu ?? 0);
    return { kind, world, bots: result, processes, placement: { seeded, atEnd, distinct }, redisCpu, machine, early };
  } finally {
    stopping = true;
    clearTimeout(deadline);
    started.bots?.child.kill("SIGKILL");
    await Promise.all(started.servers.map((s) => s.stop("SIGTERM", 8000)));
    await started.redis?.stop();
  }
}

function tables(runs: RunResult[]): string {
  const rows = [
    "| run | game processes | bots joined / failed | lost players | crossers | handoffs/s (completed, measured) | handoffs completed / offers (whole run, bots) | failed handoffs | offer to switch p50 / p99 / max ms | patches/s per bot (mean / p5) | bytes/s per bot (mean) | bot process CPU | Redis CPU | machine busy (all cores) / this test's own CPU / load avg |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of runs) {
    const b = r.bots;
    const h = b.handoffs;
    rows.push(
      `| ${r.kind} | ${r.processes.length} | ${b.joined} / ${b.failed} | ${b.lostPlayers} | ${b.crossers} | ${f(h.completedPerSecond)} | ${h.completedTotal} / ${h.offersTotal} | ${h.failed} | ${h.completedTotal ? `${h.latencyMs.p50} / ${h.latencyMs.p99} / ${h.latencyMs.max}` : "-"} | ${f(b.patchesPerSecond.mean)} / ${f(b.patchesPerSecond.p5)} | ${f(b.bytesPerClientPerSecond.mean, 0)} | ${f(b.botCpu * 100, 0)}% | ${r.redisCpu === undefined ? "-" : `${f(r.redisCpu * 100, 0)}%`} | ${f(r.machine.busyShare * 100, 0)}% of ${r.machine.cores} / ${f(r.machine.ownCpu * 100, 0)}% of one / ${f(r.machine.loadAvg1)} |`,
    );
  }
  const per = [
    "| run | process | region rooms on it (at the end) | bots there at the end | patches/s per bot in its region | CPU | RSS MB | lag median / p99 / max ms | mmo_handoffs_total in the window (offered / completed / failed) | error lines logged |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of runs) {
    for (const p of r.processes) {
      const regions = r.kind === "split" ? p.regions : [""];
      const botsThere = regions.reduce((s, g) => s + (r.bots.perRegion[g]?.botsAtEnd ?? 0), 0);
      const rates = regions.map((g) => f(r.bots.perRegion[g]?.patchesPerBotSecond ?? 0)).join(", ");
      const label = r.kind === "split" ? regions.map(regionLabel).join(", ") || "none" : "the whole world (one room)";
      const hw = p.handoffs;
      per.push(
        `| ${r.kind} | ${p.name} | ${label} | ${botsThere} | ${rates || "-"} | ${f(p.cpu * 100, 0)}% | ${f(p.rssMB, 0)} | ${f(p.lagMedianMs)} / ${f(p.lagP99Ms)} / ${f(p.lagMaxMs)} | ${r.kind !== "split" ? "-" : hw.offered === undefined ? "no answer at the end (process gone)" : `${hw.offered} / ${hw.completed} / ${hw.failed}`} | ${p.errors} |`,
      );
    }
  }
  return `${rows.join("\n")}\n\n${per.join("\n")}`;
}

export async function runRegions(o: RegionsOptions): Promise<void> {
  if (o.regions !== 2) throw new Error("--regions: only 2 (a 2 x 1 grid on two processes) is built so far");
  if (!(o.cross >= 0 && o.cross <= 1)) throw new Error("--cross must be between 0 and 1");
  const dir = mkdtempSync(join(tmpdir(), "mmo-regions-"));
  const worldsFile = join(dir, "worlds.json");
  const maxUsers = o.bots + 100;
  // The same world twice: as one room, and split at x = 3200 into "" (west) and "1_0" (east).
  writeFileSync(
    worldsFile,
    JSON.stringify({
      single: { title: "Load test, one room", settings: { maxUsers } },
      split: { title: "Load test, 2 x 1 regions", settings: { maxUsers, regionSize: { x: MAP.w / o.regions, y: 0 } } },
    }),
  );
  const order: RunResult["kind"][] = o.splitFirst ? ["split", "one room"] : ["one room", "split"];
  const runs: RunResult[] = [];
  try {
    for (const kind of order) {
      console.log(`\n== ${kind}: ${o.bots} bots (${Math.round(o.cross * 100)}% crossing x = ${MAP.w / 2}), joining at ${o.joinRate}/s, then ${o.steady} s measured`);
      const r = await runOnce(kind, o, worldsFile);
      runs.push(r);
      const h = r.bots.handoffs;
      console.log(
        `joined ${r.bots.joined}/${r.bots.requested}, lost ${r.bots.lostPlayers}, handoffs ${f(h.completedPerSecond)}/s, failed handoffs ${h.failed}, ` +
          `patches/s per bot ${f(r.bots.patchesPerSecond.mean)}; ` +
          r.processes.map((p) => `${p.name} CPU ${f(p.cpu * 100, 0)}% lag p99 ${f(p.lagP99Ms)} ms`).join(", "),
      );
      if (r.early.length) console.log(`ENDED EARLY: ${r.early.join("; ")}`);
      if (kind === "split") console.log(`placement after seeding: ${JSON.stringify(r.placement.seeded)}, at the end: ${JSON.stringify(r.placement.atEnd)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  runs.sort((a, b) => Number(a.kind === "split") - Number(b.kind === "split"));
  const md = tables(runs);
  console.log(`\n${md}\n`);
  const split = runs.find((r) => r.kind === "split")!;
  const everyRegionAtEnd = regionNamesOf(split).every((r) => split.placement.atEnd[r] && !split.placement.atEnd[r].includes("+"));
  const errors = runs.reduce((n, r) => n + r.processes.reduce((m, p) => m + p.errors, 0), 0);
  const ok = errors === 0 && everyRegionAtEnd && split.early.length === 0 && split.placement.distinct && split.bots.handoffs.failed === 0 && split.bots.lostPlayers === 0 && split.bots.failed === 0;
  console.log(
    ok
      ? "Split run: each region on its own process from start to end, 0 failed handoffs, 0 lost players, no server error."
      : `NOT clean: ${errors} server error lines, placement at the end ${JSON.stringify(split.placement.atEnd)}, ${split.bots.handoffs.failed} failed handoffs, ${split.bots.lostPlayers} lost players${split.early.length ? `, ${split.early.join("; ")}` : ""}.`,
  );
  if (o.noWrite) return;
  const when = new Date().toISOString();
  writeFileSync(`${root}/loadtest/regions-results.json`, `${JSON.stringify({ date: when, node: process.version, options: o, runs }, null, 2)}\n`);
  const placement = regionNamesOf(split)
    .map((r) => `region ${regionLabel(r)} on ${split.placement.seeded[r] ?? "?"} (after seeding), ${split.placement.atEnd[r] ?? "?"} (at the end)`)
    .join("; ");
  writeFileSync(
    `${root}/loadtest/regions-results.md`,
    `# Regions load test: one world on two processes

Generated by \`npm run loadtest -- --regions ${o.regions} --bots ${o.bots} --steady ${o.steady}${o.splitFirst ? " --split-first" : ""}\` on ${when.slice(0, 16).replace("T", " ")} UTC, Node ${process.version}, ${os.cpus()[0]?.model ?? ""}, ${os.cpus().length} cores (shared).

The same world (the default 6400 x 6400 map, AoI 560 x 400, ${GEMS} gems and ${NPCS} NPCs in all) with the same
${o.bots} bots, back to back: **one room** on one game process (no Redis, as \`npm run loadtest\`), and
**split** into 2 x 1 regions at x = 3200 (\`regionSize {x: 3200, y: 0}\`, from an \`MMO_WORLDS_FILE\`),
each region's room on its own game process, both processes on one Redis of the test's own
(presence and matchmaking driver, as \`npm run cluster\`). The bots run in a third process
(\`loadtest/regionBots.ts\`, \`joinWorld\` + \`followHandoffs\`), spread over both regions and
both processes' endpoints; ${Math.round(o.cross * 100)}% of them walk back and forth across x = 3200
(turning ${SWING} units past it, steered by their \`ack\` positions), the others wander as in
\`npm run loadtest\`. ${o.steady} s measured after all joined. A failed handoff is a \`handoff\` offer not
followed by a switch within ${FAIL_AFTER_MS / 1000} s; a lost player is a close other than 4105 on a bot's
current room (or a 4105 not followed by a switch). Placement (from the driver's room cache in
Redis): ${placement}.

${md}

Per-process CPU is a share of one core, sampled every second in each game process; lag is how
late a 5 ms timer fires (every lag of the window). Redis CPU is from /proc over the window; the
machine column is the whole machine's busy share over the window (other jobs included) and what
this test's own processes used.${runs.some((r) => r.early.length) ? `\n\n**Ended early:** ${runs.flatMap((r) => r.early.map((e) => `${r.kind}: ${e}`)).join("; ")}.` : ""}

What this can and cannot show: the game processes, the bots and Redis all share these
${os.cpus().length} cores, so a split cannot show a parallel speed-up here (two processes on the
same cores do not add CPU; their CPU and lag columns are per process, not capacity). What it
can show: that players cross the border under load, with failed handoffs and lost players
counted, the handoff rate, what each process pays for its half of the world (its CPU, memory,
lag, and its share of \`mmo_handoffs_total\`), and what clients receive in each region against
the one-room run. When the machine column shows other jobs, the absolute numbers are theirs as
much as ours: compare the two rows of one invocation, not runs of different invocations.
`,
  );
  console.log("Wrote loadtest/regions-results.md and loadtest/regions-results.json");
}

function regionNamesOf(r: RunResult): string[] {
  return Object.keys(r.bots.perRegion);
}
