// The bots of `npm run loadtest -- --regions 2` (loadtest/regions.ts), in their own process, on
// @colyseus/sdk through the project's SDK helpers (joinWorld, followHandoffs). The same bots run
// against the one-room world and the split one, so the two runs differ only in the server.
//
// Bots are spread over the regions named in the arguments (one region "" for the one-room run)
// and over the processes' endpoints (matchmaking through Redis sends each to its room's process).
// A share of them (`crossShare`) are crossers: they enter near the border x = `borderX` and walk
// back and forth across it (`swing` units either side), steering by their own position from the
// server's `ack` (input sent with `seq`, as the browser client does); the others wander as in
// loadtest/bots.ts. Every bot follows handoffs. Counted per bot: patches received per region
// (not decoded), handoff offers and completed switches, failed handoffs (an offer not followed by
// a switch within `failAfterMs`), and lost players (a close other than 4105 on the current room,
// or a 4105 with no switch after it within `failAfterMs`).
//
// The first bot of each region joins alone, `seedGapMs` apart, so matchmaking (fewest rooms first)
// creates each region's room on a different process; "SEEDED" is printed once they are in.
// Prints "SEEDED", "STEADY_START <ms>", "STEADY_END <ms>" and a final "RESULT {json}".
import { Client, Protocol, type Room } from "@colyseus/sdk";
import { CloseCodes } from "../src/shared/codes";
import type { MMOState } from "../src/shared/schema";
import { followHandoffs, joinWorld } from "../src/shared/sdk";

export interface RegionBotArgs {
  /** One endpoint per game process: bot i joins through endpoints[i % n]. */
  endpoints: string[];
  world: string;
  /** Region names to spread the bots over ([""] for a world that is one room). */
  regions: string[];
  bots: number;
  joinsPerSecond: number;
  steadySeconds: number;
  /** Share of the bots that walk back and forth across the border (0..1). */
  crossShare: number;
  borderX: number;
  /** How far either side of the border a crosser turns back (units). */
  swing: number;
  mapHeight: number;
  /** An offer not followed by a switch within this long is a failed handoff. */
  failAfterMs: number;
  seedGapMs: number;
}

export interface RegionBotResult {
  requested: number;
  joined: number;
  failed: number;
  failures: Record<string, number>;
  crossers: number;
  /** Closes other than 4105 on a bot's current room, and 4105s never followed by a switch. */
  lostPlayers: number;
  joinSeconds: number;
  steadySeconds: number;
  handoffs: {
    /** `handoff` messages received (a re-offer of the same move counts again). */
    offersTotal: number;
    /** Completed switches (followHandoffs' onSwitch), whole run. */
    completedTotal: number;
    /** Completed switches in the measured window, per second. */
    completedPerSecond: number;
    /** Offers not followed by a switch within failAfterMs (whole run, including at the end). */
    failed: number;
    /** A switch whose new room had another sessionId (must be 0). */
    sessionIdChanged: number;
    /** Offer to switch, ms (measured window). */
    latencyMs: { p50: number; p99: number; max: number };
  };
  patchesPerSecond: { mean: number; p5: number; p95: number };
  bytesPerClientPerSecond: { mean: number; p5: number; p95: number };
  /** Per region: patches/s per bot in it (patches received while in that region / bot-seconds there), and bots in it at the end. */
  perRegion: Record<string, { patchesPerBotSecond: number; botSeconds: number; botsAtEnd: number }>;
  /** This bot process's CPU over the measured window (share of one core). */
  botCpu: number;
}

const args = JSON.parse(process.argv[2]) as RegionBotArgs;

type Keys = { up: boolean; down: boolean; left: boolean; right: boolean };
interface Bot {
  client: Client;
  room: Room<MMOState>;
  region: string;
  crosser: boolean;
  /** Crossers: walking right (else left). */
  right: boolean;
  seq: number;
  lastAck: number;
  keys: Keys;
  bytes: number;
  patches: number;
  patchesByRegion: Map<string, number>;
  /** While measuring: since when the bot is in `region` (ms). */
  regionSince: number;
  dropped: boolean;
  /** When the first unanswered offer arrived (undefined: none pending). */
  offerAt?: number;
  /** When the current room closed with 4105 (the switch should follow). */
  handedOffAt?: number;
}

const bots: Bot[] = [];
let failed = 0;
const failures = new Map<string, number>();
let lost = 0;
let measuring = false;
let offersTotal = 0;
let completedTotal = 0;
let completedInWindow = 0;
let failedHandoffs = 0;
let sessionIdChanged = 0;
const latencies: number[] = [];
const botSeconds = new Map<string, number>();

const isCrosser = (i: number) => Math.floor((i + 1) * args.crossShare) > Math.floor(i * args.crossShare);

/** Counts what arrives on `room`, below the SDK; patches are counted and not decoded (as in bots.ts). */
function instrument(bot: Bot, room: Room<MMOState>): void {
  const events = (room as unknown as { connection: { events: { onmessage: (e: { data: ArrayBuffer }) => void } } }).connection.events;
  const onmessage = events.onmessage;
  events.onmessage = (e) => {
    const isPatch = (new Uint8Array(e.data)[0] & 0x1f) === Protocol.ROOM_STATE_PATCH;
    if (measuring && bot.room === room) {
      bot.bytes += e.data.byteLength;
      if (isPatch) {
        bot.patches++;
        bot.patchesByRegion.set(bot.region, (bot.patchesByRegion.get(bot.region) ?? 0) + 1);
      }
    }
    if (!isPatch) onmessage(e);
  };
  room.onLeave((code) => {
    if (bot.room !== room || bot.dropped) return;
    if (code === CloseCodes.HANDED_OFF) bot.handedOffAt = Date.now();
    else {
      if (measuring) addTime(bot, Date.now());
      lost++;
      bot.dropped = true;
    }
  });
  room.onMessage("handoff", () => {
    offersTotal++;
    bot.offerAt ??= Date.now();
  });
  room.onMessage("ack", (ack: { x: number }) => {
    bot.lastAck = Date.now();
    if (!bot.crosser) return;
    if (bot.right && ack.x >= args.borderX + args.swing) steer(bot, false);
    else if (!bot.right && ack.x <= args.borderX - args.swing) steer(bot, true);
  });
}

function steer(bot: Bot, right: boolean): void {
  bot.right = right;
  bot.keys = { up: false, down: false, left: !right, right };
  bot.room.send("input", { ...bot.keys, seq: ++bot.seq });
}

async function joinOne(i: number): Promise<void> {
  const region = args.regions[i % args.regions.length];
  const client = new Client(args.endpoints[i % args.endpoints.length]);
  try {
    const room = await joinWorld(client, { world: args.world, name: `bot-${i}`, region: region || undefined });
    const crosser = isCrosser(i);
    // Crossers start on their region's side of the border (the one-room run: the same places).
    const side = i % 2 === 0 ? -1 : 1;
    const bot: Bot = {
      client,
      room,
      region,
      crosser,
      right: side < 0,
      seq: 0,
      lastAck: Date.now(),
      keys: { up: false, down: false, left: false, right: false },
      bytes: 0,
      patches: 0,
      patchesByRegion: new Map(),
      regionSince: Date.now(),
      dropped: false,
    };
    instrument(bot, room);
    followHandoffs(client, room, ({ from, to, region: next }) => {
      const now = Date.now();
      if (bot.offerAt !== undefined && measuring) latencies.push(now - bot.offerAt);
      bot.offerAt = undefined;
      bot.handedOffAt = undefined;
      if (to.sessionId !== from.sessionId) sessionIdChanged++;
      completedTotal++;
      if (measuring) completedInWindow++;
      instrument(bot, to);
      if (measuring) addTime(bot, now);
      bot.room = to;
      bot.region = next;
      // The new room starts from the keys the old one last had: re-send them, with a seq for acks.
      if (bot.crosser) steer(bot, bot.right);
      else to.send("input", bot.keys);
    });
    if (crosser) {
      const x = args.borderX + side * (60 + Math.random() * (args.swing - 80));
      const y = 200 + Math.random() * (args.mapHeight - 400);
      room.send("position", { x, y });
      steer(bot, bot.right);
    } else room.send("spawn");
    bots.push(bot);
  } catch (e) {
    failed++;
    const why = (e as Error).message ?? String(e);
    failures.set(why, (failures.get(why) ?? 0) + 1);
  }
}

function walk(): void {
  const now = Date.now();
  for (const bot of bots) {
    if (bot.dropped) continue;
    if (bot.crosser) {
      // No ack for 3 s (a lost input around a switch): say the keys again.
      if (now - bot.lastAck > 3000) {
        bot.lastAck = now;
        steer(bot, bot.right);
      }
    } else if (Math.random() < 0.2) {
      const r = Math.random();
      bot.keys = { up: r < 0.25, down: r >= 0.25 && r < 0.5, left: Math.random() < 0.3, right: Math.random() > 0.7 };
      bot.room.send("input", bot.keys);
    }
    if (Math.random() < 0.002) bot.room.send("chat", { text: "hello from a bot" });
  }
}

/** Adds the time `bot` spent in its region since `regionSince` (measured window only). */
function addTime(bot: Bot, now: number): void {
  if (bot.dropped) return;
  botSeconds.set(bot.region, (botSeconds.get(bot.region) ?? 0) + (now - bot.regionSince) / 1000);
  bot.regionSince = now;
}

/** Once a second: overdue offers and 4105s without a switch. */
function check(): void {
  const now = Date.now();
  for (const bot of bots) {
    if (bot.dropped) continue;
    if (bot.offerAt !== undefined && now - bot.offerAt > args.failAfterMs) {
      failedHandoffs++;
      bot.offerAt = undefined;
    }
    if (bot.handedOffAt !== undefined && now - bot.handedOffAt > args.failAfterMs) {
      if (measuring) addTime(bot, now);
      lost++;
      bot.dropped = true;
    }
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const walker = setInterval(walk, 100);
  // Seeds: each region's room created by one join, apart, so they land on different processes.
  for (let i = 0; i < Math.min(args.regions.length, args.bots); i++) {
    await joinOne(i);
    await new Promise((r) => setTimeout(r, args.seedGapMs));
  }
  console.log("SEEDED");
  const pending: Promise<void>[] = [];
  const gap = 1000 / args.joinsPerSecond;
  for (let i = args.regions.length; i < args.bots; i++) {
    pending.push(joinOne(i));
    await new Promise((r) => setTimeout(r, gap));
  }
  await Promise.all(pending);
  const joinSeconds = (Date.now() - started) / 1000;
  const checker = setInterval(() => check(), 1000);
  await new Promise((r) => setTimeout(r, 3000)); // settle
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  for (const bot of bots) bot.regionSince = t0;
  console.log(`STEADY_START ${t0}`);
  await new Promise((r) => setTimeout(r, args.steadySeconds * 1000));
  const t1 = Date.now();
  for (const bot of bots) addTime(bot, t1);
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  console.log(`STEADY_END ${t1}`);
  clearInterval(walker);
  // Offers still pending get their full time to complete, then count as failed (crossers go on
  // swinging meanwhile: their acks steer them; an offer made in this tail may still be pending).
  await new Promise((r) => setTimeout(r, args.failAfterMs + 500));
  clearInterval(checker);
  check();
  const seconds = (t1 - t0) / 1000;
  const live = bots.filter((b) => !b.dropped);
  const sorted = (a: number[]) => a.sort((x, y) => x - y);
  const q = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? 0;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / (a.length || 1);
  const bytes = sorted(live.map((b) => b.bytes / seconds));
  const patches = sorted(live.map((b) => b.patches / seconds));
  const lat = sorted(latencies);
  const perRegion: RegionBotResult["perRegion"] = {};
  for (const region of args.regions) {
    const secs = botSeconds.get(region) ?? 0;
    const n = bots.reduce((s, b) => s + (b.patchesByRegion.get(region) ?? 0), 0);
    perRegion[region] = { patchesPerBotSecond: secs ? n / secs : 0, botSeconds: secs, botsAtEnd: live.filter((b) => b.region === region).length };
  }
  const result: RegionBotResult = {
    requested: args.bots,
    joined: bots.length,
    failed,
    failures: Object.fromEntries(failures),
    crossers: bots.filter((b) => b.crosser).length,
    lostPlayers: lost,
    joinSeconds,
    steadySeconds: seconds,
    handoffs: {
      offersTotal,
      completedTotal,
      completedPerSecond: completedInWindow / seconds,
      failed: failedHandoffs,
      sessionIdChanged,
      latencyMs: { p50: q(lat, 0.5), p99: q(lat, 0.99), max: lat[lat.length - 1] ?? 0 },
    },
    patchesPerSecond: { mean: mean(patches), p5: q(patches, 0.05), p95: q(patches, 0.95) },
    bytesPerClientPerSecond: { mean: mean(bytes), p5: q(bytes, 0.05), p95: q(bytes, 0.95) },
    perRegion,
    botCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
  await Promise.allSettled(live.map((b) => b.room.leave()));
  process.exit(0);
}

void main();
