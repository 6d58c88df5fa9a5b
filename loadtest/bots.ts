// A process of bots on @colyseus/sdk: each joins one world, leaves limbo, random-walks with
// key states decided at 10 Hz (sent on change, as the browser client does) and chats now
// and then. Bots count the state patches they receive without decoding them. Prints "STEADY_START <ms>", "STEADY_END <ms>" and a final "RESULT {json}".
import { Client, Protocol, type Room } from "@colyseus/sdk";
import type { MMOState } from "../src/shared/schema";

interface Args {
  endpoint: string;
  bots: number;
  world: string;
  joinsPerSecond: number;
  steadySeconds: number;
}

const args = JSON.parse(process.argv[2]) as Args;

interface Bot {
  room: Room<MMOState>;
  bytes: number;
  patches: number;
  dropped: boolean;
  keys: { up: boolean; down: boolean; left: boolean; right: boolean };
}

const bots: Bot[] = [];
let failed = 0;
const failures = new Map<string, number>();
let disconnects = 0;
let measuring = false;

async function joinOne(i: number): Promise<void> {
  try {
    const room = await new Client(args.endpoint).joinOrCreate<MMOState>("mmo", { world: args.world, name: `bot-${i}` });
    const bot: Bot = { room, bytes: 0, patches: 0, dropped: false, keys: { up: false, down: false, left: false, right: false } };
    // Count what arrives, below the SDK. State patches are counted and not decoded: a bot
    // never reads the state, and decoding 2,000 clients' patches would make this process,
    // not the server, the bottleneck on a 2-core machine.
    const events = (room as unknown as { connection: { events: { onmessage: (e: { data: ArrayBuffer }) => void } } }).connection.events;
    const onmessage = events.onmessage;
    events.onmessage = (e) => {
      // The low 5 bits are the protocol code (the rest are modifiers).
      const isPatch = (new Uint8Array(e.data)[0] & 0x1f) === Protocol.ROOM_STATE_PATCH;
      if (measuring) {
        bot.bytes += e.data.byteLength;
        if (isPatch) bot.patches++;
      }
      if (!isPatch) onmessage(e);
    };
    room.onLeave(() => {
      if (!bot.dropped) disconnects++;
      bot.dropped = true;
    });
    room.onMessage("chat", () => {});
    room.send("spawn");
    bots.push(bot);
  } catch (e) {
    failed++;
    const why = (e as Error).message ?? String(e);
    failures.set(why, (failures.get(why) ?? 0) + 1);
  }
}

function walk(): void {
  for (const bot of bots) {
    if (bot.dropped) continue;
    if (Math.random() < 0.2) {
      const r = Math.random();
      bot.keys = { up: r < 0.25, down: r >= 0.25 && r < 0.5, left: Math.random() < 0.3, right: Math.random() > 0.7 };
      bot.room.send("input", bot.keys);
    }
    if (Math.random() < 0.002) bot.room.send("chat", { text: "hello from a bot" });
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const pending: Promise<void>[] = [];
  const gap = 1000 / args.joinsPerSecond;
  const walker = setInterval(walk, 100);
  for (let i = 0; i < args.bots; i++) {
    pending.push(joinOne(i));
    await new Promise((r) => setTimeout(r, gap));
  }
  await Promise.all(pending);
  const joinSeconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // settle
  measuring = true;
  const t0 = Date.now();
  console.log(`STEADY_START ${t0}`);
  await new Promise((r) => setTimeout(r, args.steadySeconds * 1000));
  measuring = false;
  const t1 = Date.now();
  console.log(`STEADY_END ${t1}`);
  clearInterval(walker);
  const seconds = (t1 - t0) / 1000;
  const live = bots.filter((b) => !b.dropped);
  const perBot = (f: (b: Bot) => number) => live.map(f).sort((a, b) => a - b);
  const bytes = perBot((b) => b.bytes / seconds);
  const patches = perBot((b) => b.patches / seconds);
  const q = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? 0;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / (a.length || 1);
  console.log(
    `RESULT ${JSON.stringify({
      requested: args.bots,
      joined: bots.length,
      failed,
      failures: Object.fromEntries(failures),
      disconnects,
      joinSeconds,
      steadySeconds: seconds,
      bytesPerClientPerSecond: { mean: mean(bytes), p5: q(bytes, 0.05), p95: q(bytes, 0.95) },
      patchesPerSecond: { mean: mean(patches), p5: q(patches, 0.05), p95: q(patches, 0.95) },
    })}`,
  );
  await Promise.allSettled(live.map((b) => b.room.leave()));
  process.exit(0);
}

void main();
