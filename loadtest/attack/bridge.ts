// Attack scenarios for the process bridge and region names (issue 20, findings 1 and 2).
import { Client, type Room } from "@colyseus/sdk";
import WebSocket from "ws";
import { TEST_MONITOR_PASSWORD, freePort, startProcess, tsx } from "../../scripts/lib";
import { joinWorld } from "../../src/shared/sdk";
import { percentile } from "./honest";
import type { Scenario } from "./scenarios";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `{"t":"Input","data":[[[...[1,1,...]...]]]}`: arrays nested `depth` deep, about `bytes` long. */
export function nestedMessage(depth: number, bytes: number): string {
  const ones = Array(Math.max(1, Math.floor((bytes - 2 * depth - 40) / 2))).fill(1).join(",");
  return `{"t":"Input","data":${"[".repeat(depth)}${ones}${"]".repeat(depth)}}`;
}

/** Opens a plain WebSocket (ScaleSocket's clients); undefined when the upgrade is refused. */
function openPlain(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", () => resolve(undefined));
    ws.once("error", () => resolve(undefined));
  });
}

/**
 * The review's attack on `npm run scalesocket`: one socket at a time sends 65 KB frames of
 * arrays nested 29 deep (and, since those are now refused by the socket, frames just under
 * the 16 KiB limit), 100 a second, reconnecting whenever it is closed, while an honest plain
 * client in another room times the echo of a ping every 50 ms. (Paced: the attacker shares
 * this process's event loop with the honest client, so a flat-out send loop would measure
 * the attacker's own CPU, not the server's.)
 */
async function plainSocketFlood(seconds: number): Promise<{ frames: number; closes: number; refusedJoins: number; p50: number; p99: number }> {
  const port = await freePort();
  const server = await startProcess(...tsx("src/bridge/scalesocket/main.ts", "--addr", `127.0.0.1:${port}`, "--json", process.execPath, "--", "test/fixtures/echo-backend.mjs"), {
    ready: "scalesocket: listening",
    readyMs: 30_000,
  });
  try {
    const honest = await openPlain(`ws://127.0.0.1:${port}/honest`);
    if (!honest) throw new Error("the honest client could not join");
    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    honest.on("message", (data) => {
      const m = JSON.parse(data.toString()) as { t?: string; type?: string; data?: { i?: number } };
      const t0 = m.t === "echo" && m.type === "ping" ? sentAt.get(m.data?.i ?? -1) : undefined;
      if (t0 === undefined) return;
      sentAt.delete(m.data!.i!);
      rtts.push(performance.now() - t0);
    });
    // Its room's backend has started (its first echo came back) before anything is timed.
    const warm = new Promise<void>((resolve) => honest.on("message", (data) => String(data).includes('"warm"') && resolve()));
    honest.send(JSON.stringify({ t: "warm" }));
    await warm;
    let i = 0;
    const pinger = setInterval(() => {
      sentAt.set(i, performance.now());
      honest.send(JSON.stringify({ t: "ping", data: { i: i++ } }));
    }, 50);
    const big = nestedMessage(29, 65_000);
    const underLimit = nestedMessage(29, 16 * 1024 - 100);
    let frames = 0;
    let closes = 0;
    let refusedJoins = 0;
    const end = Date.now() + seconds * 1000;
    for (let n = 0; Date.now() < end; n++) {
      const ws = await openPlain(`ws://127.0.0.1:${port}/attack`);
      if (!ws) {
        refusedJoins++;
        await sleep(100);
        continue;
      }
      const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
      // 100 frames a second (the review sent 42: 333 in 8 s), until the server closes it.
      while (ws.readyState === WebSocket.OPEN && Date.now() < end) {
        ws.send(n % 2 === 0 ? big : underLimit);
        frames++;
        await sleep(10);
      }
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      await closed;
      closes++;
    }
    clearInterval(pinger);
    const now = performance.now();
    const samples = [...rtts, ...[...sentAt.values()].map((t) => now - t)];
    honest.close();
    return { frames, closes, refusedJoins, p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    await server.stop("SIGKILL");
  }
}

export const BRIDGE_SCENARIOS: Scenario[] = [
  {
    name: "plain-socket flood (ScaleSocket server, 65 KB and 16 KB frames nested 29 deep)",
    async run({ quick }) {
      const r = await plainSocketFlood(quick ? 3 : 8);
      return {
        sent: r.frames,
        refused: r.closes + r.refusedJoins,
        echoP99Ms: r.p99,
        note: `honest plain client's echo p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; attacker closed ${r.closes} times, ${r.refusedJoins} joins refused (429)`,
      };
    },
  },
  {
    name: "process-room flood over the SDK (4 clients, nested messages at 200/s each)",
    async run({ server, quick }) {
      const seconds = quick ? 3 : 8;
      const message = JSON.parse(nestedMessage(29, 3500)).data as unknown;
      let sent = 0;
      let closes = 0;
      let refusedJoins = 0;
      const end = Date.now() + seconds * 1000;
      const flooder = async (k: number): Promise<void> => {
        while (Date.now() < end) {
          let room: Room | undefined;
          try {
            room = await new Client(server.endpoint).joinOrCreate("process", { room: `flood-${k}` });
          } catch {
            refusedJoins++;
            await sleep(250);
            continue;
          }
          room.onMessage("*", () => {});
          const left = new Promise<void>((resolve) => room!.onLeave(() => resolve()));
          // 200 a second, in bursts of 10 every 50 ms, until the server closes it.
          while (room.connection.isOpen && Date.now() < end) {
            for (let i = 0; i < 10 && room.connection.isOpen; i++, sent++) room.send("Input", message);
            await sleep(50);
          }
          if (room.connection.isOpen) await room.leave().catch(() => {});
          else closes++;
          await left;
        }
      };
      await Promise.all([0, 1, 2, 3].map(flooder));
      return { sent, refused: closes + refusedJoins, note: `flooders closed ${closes} times (4002), ${refusedJoins} joins refused` };
    },
  },
  {
    name: "region spellings (01_0, 1_00, 001_000, 0001_0000 for cell 1,0)",
    async run({ server }) {
      const spellings = ["01_0", "1_00", "001_000", "0001_0000"];
      let refused = 0;
      const reasons = new Set<string>();
      for (const region of spellings) {
        try {
          const room = await joinWorld(new Client(server.endpoint), { world: "continent", name: `copy-${region}`, region });
          await room.leave();
        } catch (e) {
          refused++;
          reasons.add(String((e as Error).message).replace(/.*bad join options: /, "").slice(0, 60));
        }
      }
      const api = (await (await fetch(`${server.endpoint}/monitor/api`, { headers: { authorization: `Basic ${Buffer.from(`admin:${TEST_MONITOR_PASSWORD}`).toString("base64")}` } })).json()) as {
        rooms?: Array<{ metadata?: { world?: string; region?: string } }>;
      };
      const regions = (api.rooms ?? []).filter((r) => r.metadata?.world === "continent").map((r) => JSON.stringify(r.metadata?.region));
      return {
        sent: spellings.length,
        refused,
        lost: regions.length > 0,
        note: `${refused} of ${spellings.length} refused (${[...reasons].join("; ")}); continent rooms open: ${regions.length}`,
      };
    },
  },
];
