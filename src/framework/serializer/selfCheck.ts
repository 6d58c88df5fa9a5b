import { type Client, ClientState, SchemaSerializer, logger } from "@colyseus/core";
import { Decoder, StateView } from "@colyseus/schema";
import { Item, MMOState, Player, Vars } from "../../shared/schema";
import { writeVar } from "../../shared/vars";
import { type ColyseusInternals, VERIFIED_VERSIONS, colyseusInternals, installedVersions } from "./colyseusInternals";
import { FanOutSerializer } from "./FanOutSerializer";

/** What the self-check found: `ok`, or the first difference a decoder saw. */
export type SelfCheckResult = { ok: true } | { ok: false; reason: string };

interface Viewer {
  view: StateView;
  client: Client;
  frames: Uint8Array[];
  decoder: Decoder<MMOState>;
}

/**
 * Plays one tiny scene (three viewers, players and items entering, moving, changing
 * variables and leaving their views) through the stock serializer and through
 * FanOutSerializer over `internals`, and compares what each viewer's decoder holds after
 * every patch. Any difference, or any throw, is a mismatch. Costs about a millisecond.
 */
export function checkFanOut(internals: ColyseusInternals = colyseusInternals): SelfCheckResult {
  try {
    const stock = playScene(new SchemaSerializer<MMOState>());
    const ours = playScene(new FanOutSerializer<MMOState>(internals));
    for (let i = 0; i < stock.length; i++) {
      if (stock[i] !== ours[i]) return { ok: false, reason: `patch ${i}: a decoder saw ${ours[i]} instead of ${stock[i]}` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `it threw: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The decoded state of every viewer after every patch, as JSON lines. */
function playScene(serializer: SchemaSerializer<MMOState>): string[] {
  const state = new MMOState();
  serializer.reset(state);
  const players = [0, 1, 2, 3].map((i) => new Player().assign({ id: `p${i}`, name: `p${i}`, x: i * 10, y: 0, z: 0 }));
  const items = [0, 1, 2].map((i) => new Item().assign({ id: `i${i}`, kind: "gem", x: i * 10, y: 5, z: 0 }));
  for (const p of players) {
    state.players.set(p.id, p);
    state.privateVars.set(p.id, new Vars());
  }
  for (const it of items) state.items.set(it.id, it);
  const viewers: Viewer[] = players.slice(0, 3).map((p) => {
    const view = new StateView();
    const frames: Uint8Array[] = [];
    const client = { sessionId: p.id, state: ClientState.JOINED, view, raw: (b: Uint8Array) => frames.push(b) } as unknown as Client;
    const decoder = new Decoder(new MMOState());
    decoder.decode(serializer.getFullState(client), { offset: 1 });
    view.add(p);
    view.add(state.privateVars.get(p.id)!);
    return { view, client, frames, decoder };
  });
  const [a, b, c] = viewers;
  const steps: Array<() => void> = [
    () => {
      a.view.add(players[1]);
      a.view.add(items[0]);
      b.view.add(players[0]);
      c.view.add(items[1]);
    },
    () => {
      players[1].x = 11;
      writeVar(players[0].vars, "hat", "red");
      writeVar(players[0].vars, "score", 250);
      writeVar(items[0].vars, "value", 5);
      writeVar(state.privateVars.get("p0")!, "key", true);
      writeVar(state.roomVars, "topic", "hi");
      state.userCount = 4;
    },
    () => {
      a.view.remove(items[0]);
      b.view.add(items[0]);
      c.view.add(players[3]);
      players[3].y = 7;
      items[1].x = 42;
    },
    () => {
      state.items.delete(items[2].id);
      writeVar(players[0].vars, "hat", false);
      writeVar(items[0].vars, "value", null);
      writeVar(state.privateVars.get("p1")!, "bag", [1, 2]);
      players[1].name = "renamed";
      b.view.remove(players[0]);
    },
  ];
  const seen: string[] = [];
  for (const step of steps) {
    step();
    serializer.applyPatches(viewers.map((v) => v.client));
    seen.push(JSON.stringify(viewers.map((v) => decoded(v))));
  }
  return seen;
}

function decoded(v: Viewer): unknown {
  for (const f of v.frames.splice(0)) v.decoder.decode(f, { offset: 1 });
  const s = v.decoder.state;
  const sorted = (m: Map<string, { toJSON(): unknown }> | undefined) =>
    m ? [...m.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, e]) => [k, e.toJSON()]) : [];
  return { players: sorted(s.players as never), items: sorted(s.items as never), userCount: s.userCount };
}

/** Which serializer a room uses: `fanout` (ours, checked at startup) or `stock` (Colyseus's). */
export type SerializerChoice = "fanout" | "stock";

const verdicts = new WeakMap<ColyseusInternals, SelfCheckResult>();

/**
 * The serializer for a room: FanOutSerializer over `stock` when the setting asks for it and
 * the self-check passes for these internals (checked once per process), otherwise `stock`
 * itself. A failed check logs one line naming the installed and verified versions, so a
 * Colyseus update costs speed, never correctness.
 */
export function chooseSerializer<S extends MMOState>(
  choice: SerializerChoice,
  stock: SchemaSerializer<S>,
  internals: ColyseusInternals = colyseusInternals,
  log: (line: string) => void = (line) => logger.warn(line),
): SchemaSerializer<S> {
  if (choice === "stock") return stock;
  let verdict = verdicts.get(internals);
  if (!verdict) {
    verdict = checkFanOut(internals);
    verdicts.set(internals, verdict);
    if (!verdict.ok) {
      const installed = Object.entries(installedVersions()).map(([n, v]) => `${n}@${v}`).join(", ");
      const verified = Object.entries(VERIFIED_VERSIONS).map(([n, v]) => `${n}@${v}`).join(", ");
      log(`FanOutSerializer self-check failed (${verdict.reason}); using the stock serializer. Installed: ${installed}; verified: ${verified}.`);
    }
  }
  return verdict.ok ? FanOutSerializer.adopt(stock, internals) : stock;
}
