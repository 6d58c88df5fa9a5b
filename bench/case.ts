// One benchmark case in its own process (clean heap, fresh JIT): a scene, a strategy, N patches.
// Prints one JSON line. Run by bench/run.ts.
import { Encoder, StateView } from "@colyseus/schema";
import { SchemaSerializer, ClientState, type Client } from "@colyseus/core";
import { Item, MMOState, Player } from "../src/shared/schema";
import type { SceneSpec } from "./scene";
import { type Run, type StrategyName, start } from "./strategies";
import { writeVar } from "../src/shared/vars";

interface Args {
  spec: SceneSpec;
  strategy: StrategyName;
  patches: number;
  warmup: number;
  sampleClients: number;
}

const args = JSON.parse(process.argv[2]) as Args;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { mean, median: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0 };
}

/** Bytes of one entity's full ADD through a view, measured on a tiny state. */
function fullEntityBytes(kind: "player" | "item"): number {
  const state = new MMOState();
  const serializer = new SchemaSerializer<MMOState>();
  serializer.reset(state);
  const view = new StateView();
  let bytes = 0;
  const client = { sessionId: "x", state: ClientState.JOINED, view, raw: (b: Uint8Array) => (bytes = b.byteLength) } as unknown as Client;
  const e =
    kind === "player"
      ? new Player().assign({ id: "p12345", name: "player-1234", x: 1234.5678, y: 2345.6789, z: 0 })
      : new Item().assign({ id: "i12345", kind: "gem", x: 1234.5678, y: 2345.6789, z: 0 });
  writeVar(e.vars, kind === "player" ? "score" : "value", 0);
  if (e instanceof Player) state.players.set(e.id, e);
  else state.items.set(e.id, e as Item);
  serializer.applyPatches([client]);
  state.userCount = 1; // something for the shared pass, so the next patch is not skipped
  view.add(e);
  serializer.applyPatches([client]);
  return bytes - 3; // minus the frame byte and the shared userCount change
}

Encoder.BUFFER_SIZE = 4 * 1024 * 1024;
gc();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
const run: Run = start(args.strategy, args.spec);
const setupMs = performance.now() - t0;
gc();
const heapAfterSetup = process.memoryUsage().heapUsed;

const aoi: number[] = [];
const encode: number[] = [];
const total: number[] = [];
const bytes: number[] = [];
const minBytes: number[] = [];
const oursBytes: number[] = [];
const fullBytes = { player: fullEntityBytes("player"), item: fullEntityBytes("item") };
const sample = run.clients.filter((_c, i) => i % Math.max(1, Math.floor(run.clients.length / args.sampleClients)) === 0).slice(0, args.sampleClients);
const exactBefore = new Map(sample.map((c) => [c, new Set(run.exactAoi(c))]));
const movingSet = new Set<Player | Item>([...run.scene.players, ...run.scene.moving]);

for (let tick = 0; tick < args.warmup + args.patches; tick++) {
  const s = run.patch(tick);
  if (tick < args.warmup) continue;
  aoi.push(s.aoiMs);
  encode.push(s.encodeMs);
  total.push(s.aoiMs + s.encodeMs);
  for (const b of s.bytes) bytes.push(b);
  // The exact-AoI lower bound, on sampled clients of our run: the changed entities inside the
  // exact box (their delta bytes as encoded this patch) plus full ADDs of those that entered it.
  if (args.strategy === "ours") {
    for (const c of sample) {
      const now = new Set(run.exactAoi(c));
      const before = exactBefore.get(c)!;
      let min = 1;
      for (const e of now) {
        if (!before.has(e)) min += e instanceof Player ? fullBytes.player : fullBytes.item;
        else if (movingSet.has(e)) min += deltaBytes(e);
      }
      if (movingSet.has(c.player)) min += deltaBytes(c.player);
      exactBefore.set(c, now);
      minBytes.push(min);
      oursBytes.push(s.bytes[run.clients.indexOf(c)]);
    }
  }
}

function deltaBytes(e: Player | Item): number {
  return run.segmentBytes?.(e) ?? 0;
}

gc();
const heapAfterRun = process.memoryUsage().heapUsed;
const byteStats = stats(bytes);
console.log(
  JSON.stringify({
    scene: args.spec.name,
    strategy: args.strategy,
    players: args.spec.players,
    items: args.spec.items,
    patches: args.patches,
    setupMs,
    aoiMs: stats(aoi),
    encodeMs: stats(encode),
    totalMs: stats(total),
    bytesPerClient: { mean: byteStats.mean, p95: byteStats.p95 },
    visiblePerClient: sample.reduce((n, c) => n + run.exactAoi(c).length, 0) / sample.length,
    exactMinBytes: minBytes.length ? stats(minBytes).mean : null,
    oursOverMin: minBytes.length ? stats(oursBytes).mean / stats(minBytes).mean : null,
    heapMB: { setup: (heapAfterSetup - heapBefore) / 2 ** 20, afterRun: (heapAfterRun - heapBefore) / 2 ** 20 },
  }),
);
