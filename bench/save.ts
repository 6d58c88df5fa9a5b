// `npm run bench:save`: what one world save costs at the storage budget's size, on the event
// loop (the part that can delay a patch): the snapshot of the remembered players and items,
// and its JSON. The file write itself is asynchronous. Prints a table.
import { PlayerMemory, SAVED_PLAYERS_BYTES } from "../src/framework/PlayerMemory";
import { World } from "../src/framework/World";
import { parseSettings } from "../src/framework/settings";
import type { MMOSession } from "../src/framework/Sessions";
import { takeSnapshot } from "../src/framework/worldSnapshot";
import { Player } from "../src/shared/schema";
import { writeVar } from "../src/shared/vars";

const settings = parseSettings({});
const world = new World(World.createState(settings), settings);
for (let i = 0; i < 300; i++) world.addItem("gem", world.findFreePosition(), { value: "1" }, { spawnedAt: i });
const memory = new PlayerMemory(new Map([["score", "0"]]));
// Players with progress, a few variables each, until the byte budget is full.
for (let i = 0; memory.size.bytes < SAVED_PLAYERS_BYTES; i++) {
  const player = new Player().assign({ id: `s${i}`, name: `player-${i}`, x: i % 6400, y: (i * 7) % 6400 });
  writeVar(player.vars, "score", i);
  writeVar(player.vars, "hat", "red");
  writeVar(player.vars, "quest", `chapter-${i % 12}`);
  memory.remember({ identity: `identity-${i}-${"x".repeat(12)}`, player, inLimbo: false } as MMOSession);
}
const times: number[] = [];
let bytes = 0;
for (let run = 0; run < 20; run++) {
  const t0 = performance.now();
  const json = JSON.stringify(takeSnapshot(world, memory, []));
  times.push(performance.now() - t0);
  bytes = json.length;
}
times.sort((a, b) => a - b);
console.log("| remembered players | snapshot bytes | snapshot + JSON ms median | p95 | max |");
console.log("| --- | --- | --- | --- | --- |");
console.log(`| ${memory.size.players} | ${bytes} | ${times[10].toFixed(1)} | ${times[18].toFixed(1)} | ${times[19].toFixed(1)} |`);
