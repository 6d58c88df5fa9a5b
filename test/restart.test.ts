import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { afterAll, describe, expect, it } from "vitest";
import type { MMOState } from "../src/shared/schema";
import { joinWorld } from "../src/shared/sdk";
import { type GameProcess, startGameProcess } from "./helpers/cluster";
import { sleep, until } from "./helpers/server";
import { readVar } from "../src/shared/vars";

// One process, no Redis: worlds live in files under MMO_DATA_DIR and survive a restart.
const dataDir = mkdtempSync(join(tmpdir(), "mmo-restart-"));
const env = { MMO_DATA_DIR: dataDir, MMO_DRAIN_SECONDS: "0", GAME_GEMS: "10", GAME_NPCS: "0" };
let proc: GameProcess | undefined;

afterAll(async () => {
  await proc?.stop("SIGKILL");
});

async function enter(p: GameProcess, token?: string): Promise<{ room: Room<MMOState>; token: string }> {
  const room = await joinWorld(new Client(p.endpoint), { world: "home", name: "Resident", token });
  if (token) return { room, token };
  const issued = await new Promise<string>((resolve) => room.onMessage("identity", (m: { token: string }) => resolve(m.token)));
  return { room, token: issued };
}

describe("a process restart", () => {
  it("keeps the world's items and a returning player's place and variables (file store)", async () => {
    proc = await startGameProcess("", env);
    const first = await enter(proc);
    first.room.send("position", { x: 777, y: 888 });
    first.room.send("vars", { hat: "blue" });
    await until(() => readVar(first.room.state.players?.get(first.room.sessionId)?.vars, "hat") === "blue", "hat set");
    await sleep(300);
    const items = new Map<string, string>();
    first.room.state.items?.forEach((it, id) => items.set(id, `${it.kind}@${it.x},${it.y}`));
    // SIGTERM: the room saves on its way out, the process exits.
    await proc.stop("SIGTERM");

    proc = await startGameProcess("", env);
    const back = await enter(proc, first.token);
    back.room.send("spawn");
    await until(() => readVar(back.room.state.players?.get(back.room.sessionId)?.vars, "hat") === "blue", "the hat came back");
    const me = back.room.state.players!.get(back.room.sessionId)!;
    expect([me.x, me.y]).toEqual([777, 888]);
    // The gems the first process had around that spot are the same ones, where they were.
    await sleep(300);
    back.room.state.items?.forEach((it, id) => {
      if (items.has(id)) expect(`${it.kind}@${it.x},${it.y}`).toBe(items.get(id));
    });
    const again = [...(back.room.state.items?.keys() ?? [])].filter((id) => items.has(id));
    expect(again.length).toBe(items.size);
    await back.room.leave();
  }, 90_000);
});
