// The configurations of `npm run bench -- --regions`, in one process of their own (fresh JIT):
// the main bench's scene (bench/scene.ts) as one room and split into a grid of region rooms, all
// regions in this process, the configurations' patches interleaved. Prints one JSON line (an
// array, one result per configuration). Run by bench/regions.ts.
//
// Per region, what a region room holds: a World (schema state + AoI index), the state encoded
// by FanOutSerializer, one StateView per own player, and (split only) a Ghosts instance. Per
// patch, in the room's order: movement (World.place, not timed, as in the main bench), the
// staggered AoI update (World.aoi.updateDue), handoffs due (ownerWithHysteresis; in process,
// the way MMORoom's handOver / joinFromHandoff / leaveAfterHandoff do it), ghost collect in
// every region, JSON.stringify of each batch (the presence transport: its bytes are the ghost
// traffic) and JSON.parse + apply + expire on the receiving side, then every region encodes
// its patch for its views.
import os from "node:os";
import { type Client, ClientState, SchemaSerializer } from "@colyseus/core";
import { Encoder, StateView } from "@colyseus/schema";
import { Item, MMOState, Player } from "../src/shared/schema";
import { readVars, writeVar } from "../src/shared/vars";
import type { VarValue } from "../src/shared/wire";
import type { Vec3 } from "../src/shared/vector";
import { World, applyProximityDiff } from "../src/framework/World";
import { FanOutSerializer } from "../src/framework/serializer/FanOutSerializer";
import { RegionGrid, type RegionName } from "../src/regions/RegionGrid";
import { type GhostBatch, Ghosts } from "../src/regions/Ghosts";
import { AOI, BroadcastState, MARGIN, PATCH_MS, PROXIMITY_MS, SPEED, Scene, type SceneSpec } from "./scene";

export interface RegionsCaseArgs {
  spec: SceneSpec;
  /** Columns and rows of regions: 1 x 1 is the one room. */
  cols: number;
  rows: number;
  patches: number;
  warmup: number;
}

/** What bench/regions.ts asks for: configurations of one scene, run side by side in this process. */
export interface RegionsRunArgs {
  spec: SceneSpec;
  configs: Array<{ cols: number; rows: number }>;
  patches: number;
  warmup: number;
}

export interface Stats {
  mean: number;
  median: number;
  p95: number;
  max: number;
}

export interface RegionResult {
  name: string;
  /** Own players and items, and ghosts held (means over the measured patches). */
  players: number;
  items: number;
  ghostPlayers: number;
  ghostItems: number;
  aoiMs: Stats;
  /** Collect + stringify (sending) and parse + apply + expire (receiving), per patch. */
  ghostMs: Stats;
  collectMs: Stats;
  applyMs: Stats;
  /** The handoff scan over own players plus the handoffs themselves (both regions' sides). */
  handoffMs: Stats;
  encodeMs: Stats;
  totalMs: Stats;
  /** The same work as process CPU time (user + system, all threads): less sensitive to other load on a shared machine. */
  cpuMs: Stats;
  /** Each phase in process CPU time. */
  cpu: { aoiMs: Stats; ghostMs: Stats; collectMs: Stats; applyMs: Stats; handoffMs: Stats; encodeMs: Stats };
  /** Per neighbour: JSON bytes and rows sent per patch (mean). */
  sent: Record<string, { bytes: number; rows: number }>;
  handoffsOut: number;
  handoffsIn: number;
  /** Bytes per own client per patch (mean). */
  bytesPerClient: number;
}

export interface RegionsCaseResult {
  spec: SceneSpec;
  cols: number;
  rows: number;
  side: number;
  regionSize: { x: number; y: number };
  ghostMargin: number;
  hysteresis: number;
  patches: number;
  setupMs: number;
  regions: RegionResult[];
  /** Per patch, the slowest region's total, and the sum over regions (the same patch). */
  busiestMs: Stats;
  sumMs: Stats;
  busiestCpuMs: Stats;
  sumCpuMs: Stats;
  /** os.loadavg() before and after the run (other load on the machine). */
  load: number[];
  handoffs: number;
  /** Heap growth of the configuration over its setup and warm-up (forced GC), scene copies excluded. */
  heapMB: number;
}

/** MMORoom's defaults: the ghost TTL and the handoff hysteresis (src/framework/settings.ts). */
const GHOST_TTL_MS = 1500;
const HYSTERESIS = 48;

interface Phases {
  aoi: number;
  collect: number;
  apply: number;
  handoff: number;
  encode: number;
}

const phases = (): Phases => ({ aoi: 0, collect: 0, apply: 0, handoff: 0, encode: 0 });

interface Session {
  player: Player;
  view: StateView;
  client: Client;
  bytes: number;
}

interface Region {
  name: RegionName;
  world: World;
  serializer: FanOutSerializer<MMOState>;
  ghosts?: Ghosts;
  sessions: Map<Player, Session>;
  clients: Client[] | undefined;
  inbox: string[];
  applyDiff: Parameters<World["aoi"]["updateDue"]>[2];
  t: { aoi: number[]; collect: number[]; apply: number[]; handoff: number[]; encode: number[]; total: number[]; cpu: number[] };
  cur: Phases;
  cpu: Phases;
  tc: { aoi: number[]; collect: number[]; apply: number[]; handoff: number[]; encode: number[] };
  sent: Map<string, { bytes: number; rows: number }>;
  counts: { players: number; items: number; ghostPlayers: number; ghostItems: number; clientBytes: number; clientPatches: number };
  handoffsOut: number;
  handoffsIn: number;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

export function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { mean, median: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0 };
}

function session(player: Player, view: StateView): Session {
  const s: Session = { player, view, bytes: 0, client: undefined as unknown as Client };
  s.client = {
    sessionId: player.id,
    state: ClientState.JOINED,
    view,
    raw: (b: Uint8Array) => {
      s.bytes += b.byteLength;
    },
  } as unknown as Client;
  return s;
}

interface Built {
  /** The heap before the configuration was built (the scene's own copies already allocated). */
  heapBefore: number;
  patch(tick: number): void;
  finish(heapMB: number, load: number[]): RegionsCaseResult;
}

function build(args: RegionsCaseArgs): Built {
  // The scene's own entities are the source of truth for movement (bench/scene.ts walks them);
  // each region holds its own schema instances of what it owns, moved by World.place as a room
  // moves its players. The same for the one room, so both configurations do the same work.
  const scene = new Scene(args.spec, new BroadcastState());
  const side = scene.side;
  const mapLimits = { lower: { x: 0, y: 0, z: 0 }, higher: { x: side, y: side, z: 0 } };
  const settings = { aoi: AOI, aoiLeaveMargin: MARGIN, mapLimits, maxVisibilityRange: 8, speed: SPEED, patchRate: PATCH_MS };
  const regionSize = { x: args.cols > 1 ? side / args.cols : 0, y: args.rows > 1 ? side / args.rows : 0 };
  const grid = new RegionGrid(mapLimits, regionSize);
  const margin = Math.max(AOI.x, AOI.y) + MARGIN;

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const regions = new Map<RegionName, Region>();
  for (const name of grid.names()) {
    const state = World.createState(settings);
    const world = new World(state, settings);
    const stock = new SchemaSerializer<MMOState>();
    stock.reset(state);
    const region: Region = {
      name,
      world,
      serializer: FanOutSerializer.adopt(stock),
      ghosts: grid.single ? undefined : new Ghosts(world, grid, name, margin, HYSTERESIS),
      sessions: new Map(),
      clients: undefined,
      inbox: [],
      applyDiff: (observer, players, items) => applyProximityDiff(region.sessions.get(observer)!.view, players, items),
      t: { aoi: [], collect: [], apply: [], handoff: [], encode: [], total: [], cpu: [] },
      cur: phases(),
      cpu: phases(),
      tc: { aoi: [], collect: [], apply: [], handoff: [], encode: [] },
      sent: new Map(),
      counts: { players: 0, items: 0, ghostPlayers: 0, ghostItems: 0, clientBytes: 0, clientPatches: 0 },
      handoffsOut: 0,
      handoffsIn: 0,
    };
    regions.set(name, region);
  }

  // Who owns each scene entity, and its instance there.
  const owner = new Map<Player | Item, { region: Region; inst: Player | Item }>();
  for (const p of scene.players) {
    const region = regions.get(grid.regionAt(p))!;
    const inst = new Player().assign({ id: p.id, name: p.name });
    region.world.addPlayer(inst);
    region.world.place(inst, { x: p.x, y: p.y, z: p.z });
    const view = new StateView();
    view.add(region.world.privateVarsOf(inst));
    view.add(inst);
    for (const [k, v] of Object.entries(readVars(p.vars))) setVar(inst, k, v);
    region.sessions.set(inst, session(inst, view));
    owner.set(p, { region, inst });
  }
  const sceneItems = new Map<string, Item>();
  for (const it of scene.items) {
    // An item starts in the region it is in; one that walks past a border's hysteresis is
    // handed to the next (Ghosts), and the scene then moves the new owner's instance.
    const region = regions.get(grid.regionAt(it))!;
    const inst = region.world.addItem(it.kind, { x: it.x, y: it.y, z: it.z }, readVars(it.vars), {}, it.id);
    owner.set(it, { region, inst });
    sceneItems.set(it.id, it);
  }
  // Joining costs a full-state encode per client; as in the main bench only one client pays it,
  // and a running room has long sent the world's creation: start from a quiet change queue.
  for (const r of regions.values()) {
    const first = r.sessions.values().next().value;
    if (first) r.serializer.getFullState(first.client);
    r.serializer.applyPatches([]);
  }
  const setupMs = performance.now() - t0;

  const moved = (e: Player | Item) => {
    const o = owner.get(e)!;
    o.region.world.place(o.inst, e);
  };
  const pending: Array<{ from: Region; s: Session; to: RegionName }> = [];
  let handoffs = 0;
  const busiest: number[] = [];
  const sums: number[] = [];
  const busiestCpu: number[] = [];
  const sumsCpu: number[] = [];

  const handOver = (src: Region, s: Session, toName: RegionName, now: number, truth: Vec3) => {
    // The target's side (MMORoom.joinFromHandoff): adopt the ghost it holds, or add the player.
    const dst = regions.get(toName)!;
    const id = s.player.id;
    const ghost = dst.ghosts!.adopt(id);
    const player = ghost ?? new Player().assign({ id, name: s.player.name });
    if (!ghost) dst.world.addPlayer(player);
    const view = new StateView();
    const ns = session(player, view);
    dst.sessions.set(player, ns);
    dst.clients = undefined;
    dst.world.promoteGhost(player, { x: truth.x, y: truth.y, z: truth.z });
    view.add(dst.world.privateVarsOf(player));
    for (const [k, v] of Object.entries(readVars(s.player.vars))) setVar(player, k, v);
    view.add(player);
    dst.world.aoi.update(dst.applyDiff, player);
    dst.handoffsIn++;
    // The source's side (MMORoom.leaveAfterHandoff): the player stays as the target's ghost.
    src.sessions.delete(s.player);
    src.clients = undefined;
    s.view.dispose();
    src.ghosts!.demote(s.player, toName, now);
    src.handoffsOut++;
    handoffs++;
    return player;
  };

  const truthOf = new Map<string, Player>(scene.players.map((p) => [p.id, p]));

  const patch = (tick: number) => {
    const now = tick * PATCH_MS;
    const measured = tick >= args.warmup;
    scene.step(moved);
    for (const r of regions.values()) {
      r.cur = phases();
      r.cpu = phases();
      const a = performance.now();
      const ca = cpu();
      r.world.aoi.updateDue(now, PROXIMITY_MS, r.applyDiff);
      r.cur.aoi = performance.now() - a;
      r.cpu.aoi = cpu() - ca;
    }
    if (!grid.single) {
      // Handoffs due in every region first, then every region's batches (so no batch of this
      // patch predates a handoff of this patch).
      for (const r of regions.values()) {
        const a = performance.now();
        const ca = cpu();
        for (const s of r.sessions.values()) {
          const pos = r.world.positionOf(s.player);
          if (!pos) continue;
          const target = grid.ownerWithHysteresis(r.name, pos, HYSTERESIS);
          if (target !== r.name) pending.push({ from: r, s, to: target });
        }
        for (const h of pending) {
          const truth = truthOf.get(h.s.player.id)!;
          const inst = handOver(h.from, h.s, h.to, now, truth);
          owner.set(truth, { region: regions.get(h.to)!, inst });
        }
        pending.length = 0;
        r.cur.handoff = performance.now() - a;
        r.cpu.handoff = cpu() - ca;
      }
      for (const r of regions.values()) {
        const a = performance.now();
        const ca = cpu();
        const batches = r.ghosts!.collect();
        const out: Array<[RegionName, string, number]> = [];
        for (const [target, batch] of batches) out.push([target, JSON.stringify(batch), batch.players.length + batch.items.length]);
        r.cur.collect = performance.now() - a;
        r.cpu.collect = cpu() - ca;
        for (const [target, json, rowCount] of out) {
          regions.get(target)!.inbox.push(json);
          if (!measured) continue;
          let acc = r.sent.get(target);
          if (!acc) r.sent.set(target, (acc = { bytes: 0, rows: 0 }));
          acc.bytes += Buffer.byteLength(json);
          acc.rows += rowCount;
        }
      }
      for (const r of regions.values()) {
        const a = performance.now();
        const ca = cpu();
        for (const json of r.inbox) r.ghosts!.apply(JSON.parse(json) as GhostBatch, now);
        r.inbox.length = 0;
        for (const [inst] of r.ghosts!.takeItemMoves().arrived) owner.set(sceneItems.get(inst.id)!, { region: r, inst });
        r.ghosts!.expire(now, GHOST_TTL_MS);
        r.cur.apply = performance.now() - a;
        r.cpu.apply = cpu() - ca;
      }
    }
    let worst = 0;
    let sum = 0;
    let worstCpu = 0;
    let sumCpu = 0;
    for (const r of regions.values()) {
      r.clients ??= [...r.sessions.values()].map((s) => s.client);
      for (const s of r.sessions.values()) s.bytes = 0;
      const a = performance.now();
      const ca = cpu();
      r.serializer.applyPatches(r.clients);
      r.cur.encode = performance.now() - a;
      r.cpu.encode = cpu() - ca;
      if (!measured) continue;
      const c = r.cur;
      const total = c.aoi + c.collect + c.apply + c.handoff + c.encode;
      r.t.aoi.push(c.aoi);
      r.t.collect.push(c.collect);
      r.t.apply.push(c.apply);
      r.t.handoff.push(c.handoff);
      r.t.encode.push(c.encode);
      r.t.total.push(total);
      const k = r.cpu;
      const totalCpu = k.aoi + k.collect + k.apply + k.handoff + k.encode;
      r.t.cpu.push(totalCpu);
      for (const ph of ["aoi", "collect", "apply", "handoff", "encode"] as const) r.tc[ph].push(k[ph]);
      worst = Math.max(worst, total);
      sum += total;
      worstCpu = Math.max(worstCpu, totalCpu);
      sumCpu += totalCpu;
      let gp = 0;
      let own = 0;
      for (const p of r.world.state.players.values()) {
        if (r.ghosts?.isGhost(p.id)) gp++;
        else own++;
      }
      r.counts.players += own;
      r.counts.ghostPlayers += gp;
      r.counts.ghostItems += (r.ghosts?.size ?? 0) - gp;
      r.counts.items += r.world.state.items.size - ((r.ghosts?.size ?? 0) - gp);
      for (const s of r.sessions.values()) r.counts.clientBytes += s.bytes;
      r.counts.clientPatches += r.sessions.size;
    }
    if (measured) {
      busiest.push(worst);
      sums.push(sum);
      busiestCpu.push(worstCpu);
      sumsCpu.push(sumCpu);
    }
  };

  const finish = (heapMB: number, load: number[]): RegionsCaseResult => {
    const n = args.patches;
    const results: RegionResult[] = [];
    for (const r of regions.values()) {
      const ghost = r.t.collect.map((v, i) => v + r.t.apply[i]);
      results.push({
        name: r.name || "0_0",
        players: r.counts.players / n,
        items: r.counts.items / n,
        ghostPlayers: r.counts.ghostPlayers / n,
        ghostItems: r.counts.ghostItems / n,
        aoiMs: stats(r.t.aoi),
        ghostMs: stats(ghost),
        collectMs: stats(r.t.collect),
        applyMs: stats(r.t.apply),
        handoffMs: stats(r.t.handoff),
        encodeMs: stats(r.t.encode),
        totalMs: stats(r.t.total),
        cpuMs: stats(r.t.cpu),
        cpu: {
          aoiMs: stats(r.tc.aoi),
          ghostMs: stats(r.tc.collect.map((v, i) => v + r.tc.apply[i])),
          collectMs: stats(r.tc.collect),
          applyMs: stats(r.tc.apply),
          handoffMs: stats(r.tc.handoff),
          encodeMs: stats(r.tc.encode),
        },
        sent: Object.fromEntries([...r.sent].map(([t, v]) => [t || "0_0", { bytes: v.bytes / n, rows: v.rows / n }])),
        handoffsOut: r.handoffsOut,
        handoffsIn: r.handoffsIn,
        bytesPerClient: r.counts.clientBytes / Math.max(1, r.counts.clientPatches),
      });
    }
    // The scene stays valid: every player owned by exactly one region, its instance where the scene has it.
    for (const p of scene.players) {
      const o = owner.get(p)!;
      let owners = 0;
      for (const r of regions.values()) if (r.world.state.players.has(p.id) && !r.ghosts?.isGhost(p.id)) owners++;
      if (owners !== 1 || o.inst.x !== p.x || o.inst.y !== p.y || !o.region.sessions.has(o.inst as Player)) {
        throw new Error(`player ${p.id}: ${owners} owners, or its owner's instance is not where the scene has it`);
      }
    }
    return {
      spec: args.spec,
      cols: grid.cols,
      rows: grid.rows,
      side,
      regionSize: { x: side / grid.cols, y: side / grid.rows },
      ghostMargin: margin,
      hysteresis: HYSTERESIS,
      patches: n,
      setupMs,
      regions: results,
      busiestMs: stats(busiest),
      sumMs: stats(sums),
      busiestCpuMs: stats(busiestCpu),
      sumCpuMs: stats(sumsCpu),
      load,
      handoffs,
      heapMB,
    };
  };
  return { heapBefore, patch, finish };
}

/** The scene's variables, as the scene wrote them (bench/scene.ts). */
function setVar(entity: Player, name: string, value: VarValue): void {
  writeVar(entity.vars, name, value);
}

/**
 * Builds each configuration and warms it up alone (its heap growth is measured after its warm-up,
 * views full, forced GC), then runs the measured patches interleaved, patch by patch, the order
 * alternating: on a shared machine both configurations see the same load at the same time.
 */
function main(args: RegionsRunArgs): RegionsCaseResult[] {
  Encoder.BUFFER_SIZE = 4 * 1024 * 1024;
  const load0 = os.loadavg()[0];
  const runs: Array<{ built: Built; heapMB: number }> = [];
  for (const c of args.configs) {
    const built = build({ spec: args.spec, cols: c.cols, rows: c.rows, patches: args.patches, warmup: args.warmup });
    for (let tick = 0; tick < args.warmup; tick++) built.patch(tick);
    gc();
    runs.push({ built, heapMB: (process.memoryUsage().heapUsed - built.heapBefore) / 2 ** 20 });
  }
  for (let tick = args.warmup; tick < args.warmup + args.patches; tick++) {
    const order = tick % 2 === 0 ? runs : [...runs].reverse();
    for (const r of order) r.built.patch(tick);
  }
  const load = [load0, os.loadavg()[0]];
  return runs.map((r) => r.built.finish(r.heapMB, load));
}

const arg = process.argv[2];
if (arg) console.log(JSON.stringify(main(JSON.parse(arg) as RegionsRunArgs)));
