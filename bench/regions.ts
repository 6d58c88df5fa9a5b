// `npm run bench -- --regions`: the main bench's 10k scene (10,000 players + 10,000 items, same
// density, AoI, patch rate and movement) as one room and split into 2 x 2 region rooms, side by
// side in one child process, patches interleaved (bench/regions-case.ts). Prints a Markdown
// table (per region: own entities, ghosts, AoI / ghost sync / handoff / encode ms, ghost bytes
// per border), the busiest region, the sum over regions against the one room, heap, and a
// projection to 20,000 players in 8 regions from the measured costs; writes it to
// bench/regions-results.md. `--quick`: 2,000 + 2,000, fewer patches, writes nothing.
// `--check8` (with or without --quick) also measures the projected configuration (twice the
// scene in 4 x 2 regions, a process of its own) next to the projection.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { ROOT as root, tsx } from "../scripts/lib";
import { AOI, MARGIN, PATCH_MS, PROXIMITY_MS, type SceneSpec } from "./scene";
import type { RegionResult, RegionsCaseResult, RegionsRunArgs, Stats } from "./regions-case";

const f = (n: number, d = 1) => n.toFixed(d);
const ms = (s: Stats) => `${f(s.median, 1)} / ${f(s.p95, 1)}`;
const kb = (bytes: number) => `${f(bytes / 1024, 1)} KB`;
const TARGET_MS = 25;
const RATIO_TARGET = 1.3;

function runCase(args: RegionsRunArgs): RegionsCaseResult[] {
  const [node, caseArgs] = tsx("bench/regions-case.ts", JSON.stringify(args));
  const out = execFileSync(node, ["--expose-gc", "--max-old-space-size=12000", ...caseArgs], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as RegionsCaseResult[];
}

/** Length of a region's borders with its orthogonal neighbours, and how many diagonal neighbours it has. */
function borders(cx: number, cy: number, cols: number, rows: number, size: { x: number; y: number }) {
  const vertical = (cx > 0 ? 1 : 0) + (cx < cols - 1 ? 1 : 0);
  const horizontal = (cy > 0 ? 1 : 0) + (cy < rows - 1 ? 1 : 0);
  const diagonal = (cx > 0 && cy > 0 ? 1 : 0) + (cx < cols - 1 && cy > 0 ? 1 : 0) + (cx > 0 && cy < rows - 1 ? 1 : 0) + (cx < cols - 1 && cy < rows - 1 ? 1 : 0);
  return { length: vertical * size.y + horizontal * size.x, vertical, horizontal, diagonal };
}

function cellOf(name: string): [number, number] {
  const [cx, cy] = name.split("_").map(Number);
  return [cx, cy];
}

function isDiagonal(a: string, b: string): boolean {
  const [ax, ay] = cellOf(a);
  const [bx, by] = cellOf(b);
  return ax !== bx && ay !== by;
}

function regionRow(label: string, r: RegionResult): string {
  const sent = Object.entries(r.sent)
    .map(([to, v]) => `→${to}: ${kb(v.bytes)} (${f(v.rows, 0)} rows)`)
    .join(", ");
  const c = r.cpu;
  return `| ${label} | ${r.name} | ${f(r.players, 0)} | ${f(r.items, 0)} | ${f(r.ghostPlayers, 0)} + ${f(r.ghostItems, 0)} | ${ms(c.aoiMs)} | ${ms(c.ghostMs)} | ${ms(c.handoffMs)} | ${ms(c.encodeMs)} | **${ms(r.cpuMs)}** | ${ms(r.totalMs)} | ${sent || "–"} | ${r.handoffsOut} / ${r.handoffsIn} | ${f(r.bytesPerClient, 0)} |`;
}

const HEADER = [
  "Per patch, median / p95, ms of process CPU time unless said.",
  "",
  "| configuration | region | own players | own items | ghosts held (players + items) | AoI | ghost collect + apply | handoffs | encode | **total** | total, wall clock | ghost JSON per patch sent, by neighbour | handoffs out / in | bytes / client / patch |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];

interface Projection {
  md: string;
  busiestMs: number;
  perRegion: Array<{ name: string; ms: number; ghostMs: number; borderLength: number; inBytes: number; outBytes: number }>;
}

/**
 * 2x the scene in `cols` x `rows` regions (4 x 2), from the split run: the same density, so the
 * map side grows by sqrt(2) and each region keeps the 2 x 2 region's area and own entities.
 */
function project(split: RegionsCaseResult, cols: number, rows: number, scale: number): Projection {
  const side = split.side * Math.sqrt(scale);
  const size = { x: side / cols, y: side / rows };
  const ownPlayers = (split.spec.players * scale) / (cols * rows);
  // Own work (AoI + encode) per own player, the worst measured region's.
  const ownPer = Math.max(...split.regions.map((r) => (r.cpu.aoiMs.median + r.cpu.encodeMs.median) / r.players));
  const ownPer95 = Math.max(...split.regions.map((r) => (r.cpu.aoiMs.p95 + r.cpu.encodeMs.p95) / r.players));
  // Ghost work (collect + apply + handoff scan) per unit of border length, the worst measured region's.
  const ghostPer = Math.max(
    ...split.regions.map((r) => {
      const [cx, cy] = cellOf(r.name);
      return (r.cpu.ghostMs.median + r.cpu.handoffMs.median) / borders(cx, cy, split.cols, split.rows, split.regionSize).length;
    }),
  );
  const ghostPer95 = Math.max(
    ...split.regions.map((r) => {
      const [cx, cy] = cellOf(r.name);
      return (r.cpu.ghostMs.p95 + r.cpu.handoffMs.p95) / borders(cx, cy, split.cols, split.rows, split.regionSize).length;
    }),
  );
  // Ghost bytes per patch per unit of (orthogonal) border length, and per diagonal neighbour, measured.
  const ortho: number[] = [];
  const diag: number[] = [];
  for (const r of split.regions) {
    for (const [to, v] of Object.entries(r.sent)) {
      if (isDiagonal(r.name, to)) diag.push(v.bytes);
      else {
        const [ax] = cellOf(r.name);
        const [bx] = cellOf(to);
        ortho.push(v.bytes / (ax !== bx ? split.regionSize.y : split.regionSize.x));
      }
    }
  }
  const bytesPerUnit = ortho.reduce((a, b) => a + b, 0) / (ortho.length || 1);
  const bytesDiag = diag.reduce((a, b) => a + b, 0) / (diag.length || 1);
  const perRegion: Projection["perRegion"] = [];
  let totalBytes = 0;
  for (let cy = 0; cy < rows; cy++) {
    for (let cx = 0; cx < cols; cx++) {
      const b = borders(cx, cy, cols, rows, size);
      const ghostMs = ghostPer * b.length;
      // Directed bytes out of this region = bytes into it (symmetric density).
      const out = bytesPerUnit * b.length + bytesDiag * b.diagonal;
      totalBytes += out;
      perRegion.push({ name: `${cx}_${cy}`, ms: ownPer * ownPlayers + ghostMs, ghostMs, borderLength: b.length, inBytes: out, outBytes: out });
    }
  }
  const worst = perRegion.reduce((a, b) => (b.ms > a.ms ? b : a));
  const worstB = borders(...cellOf(worst.name), cols, rows, size);
  const worst95 = ownPer95 * ownPlayers + ghostPer95 * worstB.length;
  const measuredBorder = borders(...cellOf(split.regions[0].name), split.cols, split.rows, split.regionSize).length;
  const patchesPerSecond = 1000 / PATCH_MS;
  const md = [
    `| projected (${split.spec.players * scale} + ${split.spec.items * scale}, ${cols} x ${rows} regions) | value |`,
    "| --- | --- |",
    `| map, region size | ${f(side, 0)} units square; regions ${f(size.x, 0)} x ${f(size.y, 0)} (area as a measured ${split.cols} x ${split.rows} region's, ${f(split.regionSize.x, 0)} x ${f(split.regionSize.y, 0)}) |`,
    `| own players per region | ${f(ownPlayers, 0)} (and as many items), as measured |`,
    `| own work (AoI + encode) per region, CPU time | ${f(ownPer * ownPlayers, 1)} ms median, ${f(ownPer95 * ownPlayers, 1)} ms p95 (measured ${f(ownPer * 1000, 2)} / ${f(ownPer95 * 1000, 2)} µs per own player, worst region) |`,
    `| ghost work (collect + apply + handoffs) | ${f(ghostPer * 1000, 3)} µs median / ${f(ghostPer95 * 1000, 3)} µs p95 per unit of border per patch (measured, worst region; its borders ${f(measuredBorder, 0)} units) |`,
    `| busiest region (${worst.name}, borders ${f(worst.borderLength, 0)} units = ${f(worst.borderLength / measuredBorder, 2)}x a measured region's) | **${f(worst.ms, 1)} ms median**, ${f(worst95, 1)} ms p95 (sum of p95s: pessimistic) per patch, CPU time (ghosts and handoffs ${f(worst.ghostMs, 1)} ms of it) |`,
    `| corner region | ${f(perRegion[0].ms, 1)} ms median per patch |`,
    `| ghost traffic per border | ${f(bytesPerUnit, 2)} B per unit of border per patch each way (measured): a ${f(size.y, 0)}-unit border ${kb(bytesPerUnit * size.y)}, a ${f(size.x, 0)}-unit border ${kb(bytesPerUnit * size.x)} per patch each way; a diagonal neighbour ${kb(bytesDiag)} |`,
    `| ghost traffic into / out of the busiest region | ${kb(worst.inBytes)} per patch each way = ${f((worst.inBytes * patchesPerSecond) / 2 ** 20, 2)} MB/s each way |`,
    `| ghost traffic, the whole world through presence | ${kb(totalBytes)} per patch = ${f((totalBytes * patchesPerSecond) / 2 ** 20, 2)} MB/s published (each message read once by its subscriber) |`,
  ].join("\n");
  return { md, busiestMs: worst.ms, perRegion };
}

function heapLine(r: RegionsCaseResult): string {
  const n = r.regions.length;
  return n > 1 ? `${f(r.heapMB, 0)} MB in all, ${f(r.heapMB / n, 0)} MB per region (mean)` : `${f(r.heapMB, 0)} MB`;
}

export function runRegions(quick: boolean, check8: boolean): void {
  const spec: SceneSpec = quick
    ? { name: "quick-2k", players: 2000, items: 2000, movingItems: 0.1, visible: 30 }
    : { name: "10k", players: 10000, items: 10000, movingItems: 0.1, visible: 30 };
  const patches = quick ? 20 : 40;
  const warmup = quick ? 5 : 10;
  const started = Date.now();
  const [one, split] = runCase({ spec, configs: [{ cols: 1, rows: 1 }, { cols: 2, rows: 2 }], patches, warmup });
  console.log(`one room        total ${ms(one.regions[0].cpuMs)} ms CPU  heap ${heapLine(one)}  load ${one.load.map((l) => f(l, 1)).join("/")}`);
  console.log(`2 x 2 regions   busiest ${ms(split.busiestCpuMs)} ms CPU  sum ${ms(split.sumCpuMs)} ms CPU  handoffs ${split.handoffs}  heap ${heapLine(split)}`);
  let eight: RegionsCaseResult | undefined;
  if (check8) {
    const spec8 = { ...spec, name: `${spec.name}x2`, players: spec.players * 2, items: spec.items * 2 };
    [eight] = runCase({ spec: spec8, configs: [{ cols: 4, rows: 2 }], patches, warmup });
    console.log(`4 x 2 regions   busiest ${ms(eight.busiestCpuMs)} ms CPU  sum ${ms(eight.sumCpuMs)} ms CPU  handoffs ${eight.handoffs}  heap ${heapLine(eight)}`);
  }
  const seconds = (Date.now() - started) / 1000;

  const o = one.regions[0];
  const rows = [...HEADER, regionRow("one room", o)];
  for (const r of split.regions) rows.push(regionRow(`${split.cols} x ${split.rows} regions`, r));
  if (eight) for (const r of eight.regions) rows.push(regionRow(`check: ${eight.spec.players} + ${eight.spec.items}, 4 x 2`, r));

  // Headline figures in process CPU time: this machine's 2 cores are shared, and other load
  // stretches wall-clock times (the load average is printed); the wall clock is in the table.
  const busiest = split.regions.reduce((x, y) => (y.cpuMs.median > x.cpuMs.median ? y : x));
  const ratio = split.sumCpuMs.median / o.cpuMs.median;
  const ratioMean = split.sumCpuMs.mean / o.cpuMs.mean;
  const ratioWall = split.sumMs.median / o.totalMs.median;
  const overOwn = busiest.cpuMs.median - TARGET_MS;
  const bc = busiest.cpu;
  const share = (s: Stats) => `${f(s.median, 1)} ms (${f((100 * s.median) / busiest.cpuMs.median, 0)}%)`;
  const load = (r: RegionsCaseResult) => r.load.map((l) => f(l, 1)).join(" → ");

  // Borders: both directions of each pair of neighbours.
  const borderRows = ["| border | kind | JSON per patch, each way | rows per patch, each way | both ways, per second at 20 patches/s |", "| --- | --- | --- | --- | --- |"];
  const seen = new Set<string>();
  for (const r of split.regions) {
    for (const [to, v] of Object.entries(r.sent)) {
      const key = [r.name, to].sort().join("|");
      if (seen.has(key)) continue;
      seen.add(key);
      const back = split.regions.find((x) => x.name === to)?.sent[r.name] ?? { bytes: 0, rows: 0 };
      borderRows.push(
        `| ${r.name} ↔ ${to} | ${isDiagonal(r.name, to) ? "corner (diagonal)" : `edge, ${f(r.name.split("_")[0] !== to.split("_")[0] ? split.regionSize.y : split.regionSize.x, 0)} units`} | ${kb(v.bytes)} / ${kb(back.bytes)} | ${f(v.rows, 0)} / ${f(back.rows, 0)} | ${f(((v.bytes + back.bytes) * (1000 / PATCH_MS)) / 2 ** 20, 2)} MB/s |`,
      );
    }
  }

  const proj = project(split, 4, 2, 2);
  const machine = `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${f(os.totalmem() / 2 ** 30, 0)} GiB, ${os.platform()} ${os.release()}`;
  const command = `npm run bench -- --regions${quick ? " --quick" : ""}${check8 ? " --check8" : ""}`;
  const md = `## Regions: ${spec.players.toLocaleString("en")} players + ${spec.items.toLocaleString("en")} items, one room vs 2 x 2 region rooms

Generated by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${machine} (${f(seconds, 0)} s).
Both configurations run in one process of their own, all regions in it one after the other (so
every region's time is its own, as if each had a core); each is built and warmed up alone, then
their measured patches are interleaved (the order alternating), so both see the same machine load
at the same time; each walks its own copy of the same seeded scene. Times are per patch; the
headline figures are process CPU time (user + system, all threads, GC included), because the
2 cores are shared and other load stretches wall-clock times; the wall clock is in the table too. The main bench's
scene and movement (bench/scene.ts): map ${f(one.side, 0)} units square, about ${spec.visible} entities per
AoI, AoI ${AOI.x}x${AOI.y} + ${MARGIN}, each client's AoI recomputed every ${PROXIMITY_MS} ms, a patch every ${PATCH_MS} ms,
every player and ${spec.movingItems * 100}% of items walking at 240 units/s; ${warmup} warm-up patches, then ${patches} measured.
Regions ${f(split.regionSize.x, 0)} x ${f(split.regionSize.y, 0)} units, ghost margin ${split.ghostMargin} (AoI + leave margin, as MMORoom), handoff
hysteresis ${split.hysteresis}. Per region per patch: World.aoi.updateDue, the handoff scan and handoffs (in
process, as MMORoom's handOver / joinFromHandoff / leaveAfterHandoff: the target adopts its ghost,
the source demotes the player), Ghosts.collect + JSON.stringify per batch (the presence transport),
JSON.parse + Ghosts.apply + expire on the receiving side, FanOutSerializer.applyPatches for the
region's views. Movement is not timed (as in the main bench). Walking items are handed over
too, as MMORoom's Ghosts do (offered in the batches, taken by the region they walked into).

${rows.join("\n")}

| per patch (process CPU time unless said) | median / p95 |
| --- | --- |
| one room (${spec.players.toLocaleString("en")} views, one World) | **${ms(o.cpuMs)} ms** (wall clock ${ms(o.totalMs)} ms) |
| busiest region (${busiest.name}, the highest median) | **${ms(busiest.cpuMs)} ms** (target <= ${TARGET_MS} ms: ${overOwn <= 0 ? "met" : `over by ${f(overOwn, 1)} ms, ${f(busiest.cpuMs.median / TARGET_MS, 1)}x`}; wall clock ${ms(busiest.totalMs)} ms) |
| the slowest region of each patch, whichever it is | ${ms(split.busiestCpuMs)} ms (wall clock ${ms(split.busiestMs)} ms) |
| sum over the ${split.regions.length} regions, the same patch | ${ms(split.sumCpuMs)} ms (wall clock ${ms(split.sumMs)} ms) |
| sum over regions / one room | **${f(ratio, 2)}x** median, ${f(ratioMean, 2)}x mean (target <= ${RATIO_TARGET}x: ${ratio <= RATIO_TARGET ? "met" : "not met"}); wall clock ${f(ratioWall, 2)}x median |
| ghost collect + apply, and handoffs, over all regions | ${f(split.regions.reduce((x, r) => x + r.cpu.ghostMs.median, 0), 1)} ms + ${f(split.regions.reduce((x, r) => x + r.cpu.handoffMs.median, 0), 1)} ms (sums of the regions' medians) |
| handoffs in ${patches + warmup} patches | ${split.handoffs} (${f(split.handoffs / (patches + warmup) / split.regions.length, 2)} per region per patch) |
| heap: growth over the configuration's setup and warm-up (views full), forced GC, the scene's own copies excluded | one room ${heapLine(one)}; ${split.cols} x ${split.rows} regions ${heapLine(split)} |
| load average (1 min) at start → end, 2 cores | ${load(one)}${eight ? `; the check ${load(eight)}` : ""} |

Where the busiest region's time goes (${busiest.name}, CPU medians): AoI ${share(bc.aoiMs)}, encode ${share(bc.encodeMs)}, ghost collect + apply ${share(bc.ghostMs)} (collect + stringify ${f(bc.collectMs.median, 1)} ms, parse + apply + expire ${f(bc.applyMs.median, 1)} ms), handoffs ${share(bc.handoffMs)}.

Ghost traffic by border (JSON bytes, what presence carries):

${borderRows.join("\n")}

### Projection: ${(spec.players * 2).toLocaleString("en")} players + ${(spec.items * 2).toLocaleString("en")} items in 8 regions (4 x 2)

Assumptions: the same density (${spec.visible} entities per AoI), so the map side grows by sqrt(2) and a
4 x 2 region has the measured 2 x 2 region's area, hence its own players and items; a region's own
work (AoI + encode) scales with own entities x local density (measured per own player, worst
region); its ghost work (collect + apply + handoffs) and ghost traffic scale with the length of
its borders (rows are the entities within the margin of a border: border length x margin x density;
the O(own entities) scan in collect does not grow, so this overstates it); a diagonal neighbour's
batch as measured; one core per region (8 cores; this machine has ${os.cpus().length}); presence (Redis) and the
network are not modelled, beyond the bytes.

${proj.md}
${eight ? `\nMeasured check (\`--check8\`, a process of its own, ${eight.spec.players} + ${eight.spec.items} in 4 x 2): busiest region ${(() => { const w = eight.regions.reduce((x, y) => (y.cpuMs.median > x.cpuMs.median ? y : x)); return `${w.name} ${ms(w.cpuMs)} ms CPU per patch (projected ${f(proj.busiestMs, 1)} ms median; ghosts ${f(w.cpu.ghostMs.median, 1)} ms, handoffs ${f(w.cpu.handoffMs.median, 1)} ms)`; })()}, sum over regions ${ms(eight.sumCpuMs)} ms CPU, ${eight.handoffs} handoffs, heap ${heapLine(eight)}.\n` : ""}`;
  console.log(`\n${md}`);
  if (quick) return;
  writeFileSync(`${root}/bench/regions-results.md`, md);
  console.log("Wrote bench/regions-results.md");
}

