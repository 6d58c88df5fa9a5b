import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ManagedProcess, freePort, startProcess, tsx } from "../scripts/lib";
import { until } from "./helpers/server";

// ScaleSocket's plain WebSocket clients as an attacker uses them (issue 20, finding 1): one
// socket sending 65 KB frames of arrays nested 29 deep froze the whole server, because every
// frame was parsed, walked and re-serialised before its size and rate were looked at, and a
// client over its rate was answered forever. Now the socket refuses a frame over the message
// limit, the rate is charged on the raw frame, and a client over it is closed.
let server: { proc: ManagedProcess; port: number };
const MESSAGE_LIMIT = 16 * 1024; // processRoomSchema's maxMessageBytes default

beforeAll(async () => {
  const port = await freePort();
  // ScaleSocket's chat example: `cat` echoes every client message to the room.
  const proc = await startProcess(...tsx("src/bridge/scalesocket/main.ts", "--addr", `127.0.0.1:${port}`, "--json", "cat"), { ready: "scalesocket: listening", readyMs: 30_000 });
  server = { proc, port };
}, 60_000);
afterAll(async () => {
  await server?.proc.stop("SIGKILL");
});

interface Plain {
  ws: WebSocket;
  got: Array<Record<string, unknown>>;
  closed?: number;
}

async function plain(room: string): Promise<Plain> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/${room}`);
  const client: Plain = { ws, got: [] };
  ws.on("message", (data) => client.got.push(JSON.parse(data.toString())));
  ws.on("close", (code) => (client.closed = code));
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return client;
}

/** `[[[...[1,1,1,...]...]]]`: arrays nested `depth` deep around a run of ones, about `bytes` long. */
function nestedFrame(depth: number, bytes: number): string {
  const ones = Array(Math.max(1, Math.floor((bytes - 2 * depth - 40) / 2))).fill(1).join(",");
  return `{"t":"Input","data":${"[".repeat(depth)}${ones}${"]".repeat(depth)}}`;
}

describe("scalesocket plain clients under attack", () => {
  it("a frame over the message limit is refused by the socket itself (1009), never parsed", async () => {
    const attacker = await plain("big");
    attacker.ws.send(nestedFrame(29, 65_000));
    await until(() => attacker.closed !== undefined, "the socket closes");
    expect(attacker.closed).toBe(1009);
    // Nothing of it was answered: no `error` reply, no echo.
    expect(attacker.got.filter((m) => m.t === "error" || m.t === "Input")).toEqual([]);
  });

  it("a client over its message rate is closed (1008) after its budget; frames are charged before they are parsed", async () => {
    const attacker = await plain("rate");
    // 200 frames that do not even parse: each still costs its sender a message of its budget (60/s).
    for (let i = 0; i < 200; i++) attacker.ws.send("not json");
    await until(() => attacker.closed !== undefined, "the flooder is closed");
    expect(attacker.closed).toBe(1008);
    const refusals = attacker.got.filter((m) => m.t === "error").length;
    expect(refusals).toBeGreaterThan(0);
    expect(refusals).toBeLessThanOrEqual(60);
  });

  it("a client over its byte rate is closed (1008): big nested frames just under the limit cost their size", async () => {
    const attacker = await plain("bytes");
    const frame = nestedFrame(29, MESSAGE_LIMIT - 100);
    for (let i = 0; i < 10; i++) attacker.ws.send(frame);
    await until(() => attacker.closed !== undefined, "the flooder is closed");
    expect(attacker.closed).toBe(1008);
    // 32 KiB per second: two such frames went through, the third closed the socket.
    expect(attacker.got.filter((m) => m.t === "Input").length).toBeLessThanOrEqual(2);
  });

  it("the review's attack (65 KB frames nested 29 deep, then just-under-limit ones) leaves an honest client in another room its echoes", async () => {
    const honest = await plain("honest");
    let sent = 0;
    let attackers = 0;
    const started = Date.now();
    while (Date.now() - started < 2000) {
      const attacker = await plain(`attack-${attackers++ % 3}`).catch(() => undefined);
      if (!attacker) break; // out of plain joins (the per-IP matchmaking budget): the attack is over
      for (let i = 0; i < 20 && attacker.ws.readyState === WebSocket.OPEN; i++) {
        attacker.ws.send(i % 2 ? nestedFrame(29, 65_000) : nestedFrame(29, MESSAGE_LIMIT - 100));
        sent++;
      }
      honest.ws.send(JSON.stringify({ t: "ping", data: sent }));
      await until(() => honest.got.some((m) => m.t === "ping" && m.data === sent), "the honest client's echo");
    }
    expect(honest.closed).toBeUndefined();
    expect(sent).toBeGreaterThan(0);
    honest.ws.close();
  });
});
