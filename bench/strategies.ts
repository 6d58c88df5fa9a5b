import { type Client, ClientState, SchemaSerializer } from "@colyseus/core";
import { Encoder, type Schema, StateView } from "@colyseus/schema";
import { InterestManager, type Vec3, growVec, insideBox } from "../src/aoi";
import { FanOutSerializer, applyProximityDiff } from "../src/framework";
import { type Item, MMOState, type Player } from "../src/shared/schema";
import { AOI, BroadcastState, MARGIN, PATCH_MS, PROXIMITY_MS, Scene, type SceneSpec } from "./scene";

Encoder.BUFFER_SIZE = 4 * 1024 * 1024;

export type StrategyName = "broadcast" | "stock" | "stock+grid" | "ours";

export const STRATEGIES: Record<StrategyName, string> = {
  broadcast: "(a) unfiltered broadcast: no views, every client gets every change",
  stock: "(b) stock: per-client StateView, stock serializer, straightforward AoI (every client scans every entity)",
  "stock+grid": "(b') stock serializer, our AoI core (grid + hysteresis): isolates the encoder",
  ours: "(c) ours: our AoI core + FanOutSerializer",
};

/** A client that only counts what it is sent. */
export interface FakeClient {
  client: Client;
  player: Player;
  view?: StateView;
  bytes: number;
}

export interface PatchSample {
  aoiMs: number;
  encodeMs: number;
  /** Bytes each client received this patch. */
  bytes: number[];
}

/** One strategy running one scene, patch by patch, as a room would at its patch rate. */
export interface Run {
  scene: Scene;
  clients: FakeClient[];
  /** Moves the world one patch, updates interest when due, encodes; returns the timings. */
  patch(tick: number): PatchSample;
  /** Ours only: the bytes the last patch encoded for an entity's changes. */
  segmentBytes?: (e: Player | Item) => number;
  /** For each client, the entities in its exact AoI box now (players, items). */
  exactAoi(c: FakeClient): Array<Player | Item>;
}

function fakeClient(player: Player, view?: StateView): FakeClient {
  const fc: FakeClient = { player, view, bytes: 0, client: undefined as unknown as Client };
  fc.client = {
    sessionId: player.id,
    state: ClientState.JOINED,
    view,
    raw: (b: Uint8Array) => {
      fc.bytes += b.byteLength;
    },
  } as unknown as Client;
  return fc;
}

const PROXIMITY_EVERY = Math.round(PROXIMITY_MS / PATCH_MS);

export function start(name: StrategyName, spec: SceneSpec): Run {
  const filtered = name !== "broadcast";
  const state = filtered ? new MMOState() : new BroadcastState();
  const stock = new SchemaSerializer<Schema>();
  stock.reset(state as unknown as Schema);
  const serializer = name === "ours" ? FanOutSerializer.adopt(stock) : stock;
  const scene = new Scene(spec, state);
  const clients = scene.players.map((p) => fakeClient(p, filtered ? new StateView() : undefined));
  // Joining costs a full-state encode per client (O(state) each, the same for every
  // strategy); the benchmark measures patches, so only one client pays it here.
  if (clients.length) serializer.getFullState(clients[0].client);
  // A running room has long sent the world's creation; start from a quiet change queue.
  serializer.applyPatches([]);

  const aoi = new InterestManager<Player, Item>(AOI, MARGIN);
  // Far-visible items (spec.farVisible): each one's own range, the rule every strategy applies.
  const factor = spec.farRange ?? 4;
  const ranges = new Map<Player | Item, Vec3>(scene.items.slice(0, spec.farVisible ?? 0).map((it) => [it, { x: AOI.x * factor, y: AOI.y * factor, z: AOI.z * factor }]));
  const rangeOf = (e: Player | Item): Vec3 => (ranges.size === 0 ? AOI : (ranges.get(e) ?? AOI));
  if (name === "stock+grid" || name === "ours") {
    for (const p of scene.players) aoi.placePlayer(p, p);
    for (const it of scene.items) aoi.placeItem(it, it);
    for (const [it, range] of ranges) aoi.setItemRange(it as Item, range);
  }
  const viewOf = new Map(clients.map((c) => [c.player, c]));
  const bruteVisible = new Map(clients.map((c) => [c, new Set<Player | Item>()]));
  for (const c of clients) c.view?.add(c.player);

  let now = 0;
  const updateInterest = () => {
    if (name === "stock") {
      // The straightforward way: each client tests every entity.
      for (const c of clients) {
        const seen = bruteVisible.get(c)!;
        const view = c.view!;
        for (const list of [scene.players, scene.items] as Array<Array<Player | Item>>) {
          for (const e of list) {
            if (e === c.player) continue;
            const inside = insideBox(e, c.player, rangeOf(e));
            if (inside && !seen.has(e)) {
              seen.add(e);
              view.add(e);
            } else if (!inside && seen.has(e)) {
              seen.delete(e);
              view.remove(e);
            }
          }
        }
      }
    } else if (name !== "broadcast") {
      // As the room does: each client every PROXIMITY_MS, spread evenly over the patches.
      aoi.updateDue(now, PROXIMITY_MS, (observer, players, items) => applyProximityDiff(viewOf.get(observer)!.view!, players, items));
    }
  };

  const moved = name === "stock+grid" || name === "ours" ? (e: Player | Item) => moveInGrid(aoi, e) : () => {};
  return {
    scene,
    clients,
    segmentBytes: serializer instanceof FanOutSerializer ? (e) => serializer.lastSegmentBytes(e) : undefined,
    patch(tick: number): PatchSample {
      scene.step(moved);
      let aoiMs = 0;
      now = tick * PATCH_MS;
      // The straightforward AoI runs for everyone every PROXIMITY_MS; ours runs every patch
      // for the clients whose turn it is.
      if (name !== "stock" || tick % PROXIMITY_EVERY === 0) {
        const t0 = performance.now();
        updateInterest();
        aoiMs = performance.now() - t0;
      }
      for (const c of clients) c.bytes = 0;
      const t1 = performance.now();
      serializer.applyPatches(clients.map((c) => c.client));
      const encodeMs = performance.now() - t1;
      return { aoiMs, encodeMs, bytes: clients.map((c) => c.bytes) };
    },
    exactAoi(c: FakeClient) {
      const out: Array<Player | Item> = [];
      for (const list of [scene.players, scene.items] as Array<Array<Player | Item>>) {
        for (const e of list) if (e !== c.player && insideBox(e, c.player, rangeOf(e))) out.push(e);
      }
      return out;
    },
  };
}

function moveInGrid(aoi: InterestManager<Player, Item>, e: Player | Item): void {
  if (aoi.players.has(e as Player)) aoi.players.move(e as Player, e);
  else aoi.items.move(e as Item, e);
}

export const LEAVE_BOX = growVec(AOI, MARGIN);
