import { ClientState, type Client } from "@colyseus/core";
import { SchemaSerializer } from "@colyseus/core";
import { Decoder, StateView } from "@colyseus/schema";
import { describe, expect, it } from "vitest";
import { InterestManager } from "../src/aoi";
import { type ColyseusInternals, colyseusInternals } from "../src/framework/serializer/colyseusInternals";
import { FanOutSerializer } from "../src/framework/serializer/FanOutSerializer";
import { Item, MMOState, Player, Vars } from "../src/shared/schema";
import { readVars, writeVar } from "../src/shared/vars";
import { rng } from "./helpers/rng";

/** One world driven identically under two serializers. */
class World {
  state = new MMOState();
  aoi = new InterestManager<Player, Item>({ x: 150, y: 150, z: 0 }, 20);
  views = new Map<string, StateView>();
  clients = new Map<string, { client: Client; frames: Uint8Array[]; decoder: Decoder<MMOState> }>();
  constructor(readonly serializer: SchemaSerializer<MMOState>) {
    serializer.reset(this.state);
  }
  fakeClient(id: string, view: StateView) {
    const frames: Uint8Array[] = [];
    const client = { sessionId: id, state: ClientState.JOINED, view, raw: (b: Uint8Array) => frames.push(b) } as unknown as Client;
    return { client, frames };
  }
}

function decodedJSON(d: Decoder<MMOState>) {
  const s = d.state;
  const sortObj = (m: Map<string, unknown> | undefined) =>
    m ? Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, (v as { toJSON(): unknown }).toJSON()])) : {};
  return {
    players: sortObj(s.players as never),
    items: sortObj(s.items as never),
    userCount: s.userCount,
    // Typed variables as the SDK reads them, private ones included (a client holds its own only).
    privateVars: Object.fromEntries([...(s.privateVars?.entries() ?? [])].map(([k, v]) => [k, readVars(v)])),
    roomVars: readVars(s.roomVars),
  };
}

describe("FanOutSerializer", () => {
  for (const seed of [1, 2, 3]) {
    it(`every client decodes the same state as with the stock serializer (seed ${seed})`, () => {
      const r = rng(seed);
      const worlds = [new World(new SchemaSerializer<MMOState>()), new World(new FanOutSerializer<MMOState>())];
      let nextId = 0;
      const ids: string[] = [];
      const itemIds: string[] = [];
      const pos = () => ({ x: Math.round(r() * 1000), y: Math.round(r() * 1000), z: 0 });

      const apply = (fn: (w: World) => void) => worlds.forEach(fn);
      const addPlayer = () => {
        const id = `p${nextId++}`;
        const p0 = pos();
        ids.push(id);
        apply((w) => {
          const p = new Player().assign({ id, name: id, ...p0 });
          w.state.players.set(id, p);
          const secret = new Vars();
          writeVar(secret, "bag", ["key", 1]);
          w.state.privateVars.set(id, secret);
          const view = new StateView();
          w.views.set(id, view);
          const fc = w.fakeClient(id, view);
          const decoder = new Decoder(new MMOState());
          const full = w.serializer.getFullState(fc.client);
          decoder.decode(full, { offset: 1 });
          w.clients.set(id, { ...fc, decoder });
          view.add(p);
          view.add(secret);
          w.aoi.placePlayer(p, p0);
        });
      };
      const addItem = () => {
        const id = `i${nextId++}`;
        const p0 = pos();
        itemIds.push(id);
        apply((w) => {
          const it = new Item().assign({ id, kind: "gem", ...p0 });
          writeVar(it.vars, "v", nextId);
          writeVar(it.vars, "on", nextId % 2 === 0);
          w.state.items.set(id, it);
          w.aoi.placeItem(it, p0);
        });
      };
      for (let i = 0; i < 25; i++) addPlayer();
      for (let i = 0; i < 40; i++) addItem();

      let compared = 0;
      for (let tick = 0; tick < 80; tick++) {
        // Moves, variable changes, joins, leaves, item spawns and removals.
        for (const id of ids) {
          if (r() < 0.4) {
            const d = { x: (r() - 0.5) * 60, y: (r() - 0.5) * 60 };
            apply((w) => {
              const p = w.state.players.get(id)!;
              p.x = Math.max(0, Math.min(1000, Math.round(p.x + d.x)));
              p.y = Math.max(0, Math.min(1000, Math.round(p.y + d.y)));
              w.aoi.placePlayer(p, { x: p.x, y: p.y, z: 0 });
            });
          }
          if (r() < 0.05) {
            const v = String(Math.floor(r() * 100));
            apply((w) => writeVar(w.state.players.get(id)!.vars, "mood", v));
          }
          // Typed variables: an int, a double, a bool, an object, a type change, a delete; and private ones.
          if (r() < 0.05) {
            const pick = Math.floor(r() * 6);
            const n = Math.floor(r() * 1000);
            const value = [n, n + 0.5, n % 2 === 0, { n, tags: ["a", "b"] }, `s${n}`, null][pick];
            apply((w) => writeVar(w.state.players.get(id)!.vars, "score", value));
          }
          if (r() < 0.05) {
            const n = Math.floor(r() * 1000);
            const name = r() < 0.5 ? "gold" : "bag";
            const value = r() < 0.8 ? n : null;
            apply((w) => writeVar(w.state.privateVars.get(id)!, name, value));
          }
        }
        for (const id of itemIds) {
          if (r() < 0.1) {
            const p1 = pos();
            apply((w) => {
              const it = w.state.items.get(id)!;
              it.assign(p1);
              w.aoi.placeItem(it, p1);
            });
          }
        }
        if (r() < 0.3) addItem();
        if (r() < 0.2 && itemIds.length > 5) {
          const id = itemIds.splice(Math.floor(r() * itemIds.length), 1)[0];
          apply((w) => {
            w.aoi.removeItem(w.state.items.get(id)!);
            w.state.items.delete(id);
          });
        }
        if (r() < 0.15) addPlayer();
        if (r() < 0.1 && ids.length > 5) {
          const id = ids.splice(Math.floor(r() * ids.length), 1)[0];
          apply((w) => {
            w.aoi.removePlayer(w.state.players.get(id)!);
            w.state.players.delete(id);
            w.state.privateVars.delete(id);
            w.views.get(id)!.dispose();
            w.views.delete(id);
            w.clients.delete(id);
          });
        }
        apply((w) => (w.state.userCount = ids.length));
        if (r() < 0.1) {
          const n = Math.floor(r() * 50);
          apply((w) => writeVar(w.state.roomVars, `k${n % 3}`, n % 5 === 0 ? null : n));
        }
        // A proximity update every other tick, as the room does on its own cadence.
        if (tick % 2 === 0) {
          apply((w) =>
            w.aoi.update((observer, players, items) => {
              const view = w.views.get(observer.id)!;
              for (const e of [...players.left, ...items.left]) view.remove(e);
              for (const e of [...players.entered, ...items.entered]) view.add(e);
            }),
          );
        }
        apply((w) => {
          w.serializer.applyPatches([...w.clients.values()].map((c) => c.client));
          for (const c of w.clients.values()) {
            for (const f of c.frames.splice(0)) c.decoder.decode(f, { offset: 1 });
          }
        });
        for (const id of ids) {
          const stock = decodedJSON(worlds[0].clients.get(id)!.decoder);
          const ours = decodedJSON(worlds[1].clients.get(id)!.decoder);
          expect(ours, `client ${id} tick ${tick}`).toEqual(stock);
          // And the decoded players are exactly the AoI set plus the client itself.
          const visible = worlds[1].aoi.interestOf(worlds[1].state.players.get(id)!)!;
          if (tick % 2 === 0) {
            expect(Object.keys(ours.players).sort()).toEqual([...[...visible.players.visible].map((p) => p.id), id].sort());
            expect(Object.keys(ours.items).sort()).toEqual([...visible.items.visible].map((i) => i.id).sort());
            // Private variables: the client's own entry only.
            expect(Object.keys(ours.privateVars)).toEqual([id]);
          }
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(1500);
    });
  }
});

describe("FanOutSerializer and the Vars layout", () => {
  it("variable changes of visible entities take the fast path: encoded once, no per-view encode, the same state as stock", () => {
    // Counts what the serializer hands to the stock per-view encoder.
    let perViewTrees = 0;
    let viewEncodes = 0;
    const spy: ColyseusInternals = {
      ...colyseusInternals,
      splitChanges(s, pool) {
        const split = colyseusInternals.splitChanges(s, pool);
        if (!colyseusInternals.isEmpty(split.perView)) perViewTrees++;
        return split;
      },
      encodeView(...args) {
        viewEncodes++;
        return colyseusInternals.encodeView(...args);
      },
    };
    const worlds = [new World(new SchemaSerializer<MMOState>()), new World(new FanOutSerializer<MMOState>(spy))];
    for (const w of worlds) {
      const players = [0, 1, 2].map((i) => new Player().assign({ id: `p${i}`, name: `p${i}`, x: i, y: 0, z: 0 }));
      const item = new Item().assign({ id: "i0", kind: "gem", x: 5, y: 5, z: 0 });
      w.state.items.set(item.id, item);
      for (const p of players) {
        w.state.players.set(p.id, p);
        w.state.privateVars.set(p.id, new Vars());
      }
      for (const p of players.slice(0, 2)) {
        const view = new StateView();
        const fc = w.fakeClient(p.id, view);
        const decoder = new Decoder(new MMOState());
        decoder.decode(w.serializer.getFullState(fc.client), { offset: 1 });
        w.clients.set(p.id, { ...fc, decoder });
        for (const e of [...players, item]) view.add(e);
        view.add(w.state.privateVars.get(p.id)!);
      }
    }
    const patch = () => {
      for (const w of worlds) {
        w.serializer.applyPatches([...w.clients.values()].map((c) => c.client));
        for (const c of w.clients.values()) for (const f of c.frames.splice(0)) c.decoder.decode(f, { offset: 1 });
      }
    };
    patch();
    // The adds went through the per-view encoder (the spy sees it).
    expect(viewEncodes).toBeGreaterThan(0);
    const changes: Array<(s: MMOState) => void> = [
      (s) => writeVar(s.players.get("p2")!.vars, "score", 250),
      (s) => {
        writeVar(s.players.get("p2")!.vars, "score", "a string now");
        writeVar(s.players.get("p0")!.vars, "bag", { gold: 3 });
        writeVar(s.items.get("i0")!.vars, "open", true);
        writeVar(s.privateVars.get("p1")!, "key", 7);
      },
      (s) => {
        writeVar(s.players.get("p2")!.vars, "score", null);
        writeVar(s.items.get("i0")!.vars, "open", false);
        writeVar(s.privateVars.get("p1")!, "key", null);
        s.players.get("p1")!.x = 42;
      },
    ];
    for (const change of changes) {
      perViewTrees = 0;
      viewEncodes = 0;
      for (const w of worlds) change(w.state);
      patch();
      expect([perViewTrees, viewEncodes]).toEqual([0, 0]);
      for (const id of ["p0", "p1"]) expect(decodedJSON(worlds[1].clients.get(id)!.decoder)).toEqual(decodedJSON(worlds[0].clients.get(id)!.decoder));
    }
    const p1 = worlds[1].clients.get("p1")!.decoder.state;
    expect([readVars(p1.players.get("p0")!.vars), readVars(p1.items.get("i0")!.vars), readVars(p1.privateVars.get("p1")), p1.players.get("p1")!.x]).toEqual([{ bag: { gold: 3 } }, { open: false }, {}, 42]);
  });
});
