import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ManagedProcess, freePort, startProcess, tsx } from "../scripts/lib";
import { sleep, until } from "./helpers/server";

// ScaleSocket's plain WebSocket clients as an attacker uses them (issue 20, finding 1): one
// socket sending 65 KB frames of arrays nested 29 deep froze the whole server, because every
// frame was parsed, walked and re-serialised before its size and rate were looked at, and a
// client over its rate was answered forever. Now the socket refuses a frame over the message
// limit, the rate is charged on the raw frame, and a client over it is closed and its
// address barred from joining for MMO_FLOOD_COOLDOWN_SECONDS (1 s here).
let server: { proc: ManagedProcess; port: number };
const MESSAGE_LIMIT = 16 * 1024; // processRoomSchema's maxMessageBytes default

beforeAll(async () => {
  const port = await freePort();
  // The echo backend answers every client message to the room as {t: "echo", type, data}.
  const proc = await startProcess(...tsx("src/bridge/scalesocket/main.ts", "--addr", `127.0.0.1:${port}`, "--json", process.execPath, "--", "test/fixtures/echo-backend.mjs"), {
    ready: "scalesocket: listening",
    readyMs: 30_000,
    env: { MMO_FLOOD_COOLDOWN_SECONDS: "1" },
  });
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

/** A plain client of `room`; the upgrade's HTTP status when it is refused. */
async function tryPlain(room: string, headers: Record<string, string> = {}): Promise<Plain | number> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/${room}`, { headers });
  const client: Plain = { ws, got: [] };
  ws.on("message", (data) => client.got.push(JSON.parse(data.toString())));
  ws.on("close", (code) => (client.closed = code));
  ws.on("error", () => {});
  return new Promise<Plain | number>((resolve) => {
    ws.once("open", () => resolve(client));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });
}

/** A plain client of `room`, once this address may join again (a test before may have flooded). */
async function plain(room: string, headers: Record<string, string> = {}): Promise<Plain> {
  for (let i = 0; i < 40; i++) {
    const client = await tryPlain(room, headers);
    if (typeof client !== "number") return client;
    await sleep(100);
  }
  throw new Error(`could not join ${room}`);
}

const echoes = (c: Plain, type: string) => c.got.filter((m) => m.t === "echo" && m.type === type);

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
    expect(attacker.got.filter((m) => m.t === "error" || m.t === "echo")).toEqual([]);
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
    expect(echoes(attacker, "Input").length).toBeLessThanOrEqual(2);
  });

  it("an address closed for flooding may not join again for MMO_FLOOD_COOLDOWN_SECONDS (429), then may", async () => {
    const attacker = await plain("cooldown");
    for (let i = 0; i < 100; i++) attacker.ws.send("{}");
    await until(() => attacker.closed !== undefined, "the flooder is closed");
    expect(await tryPlain("cooldown")).toBe(429);
    expect(await tryPlain("elsewhere")).toBe(429);
    await sleep(1100);
    const back = await tryPlain("cooldown");
    expect(typeof back).toBe("object");
    (back as Plain).ws.close();
  });

  it("the backend's REMOTE_ADDR is the address admission counted, not an X-Real-IP the client sent", async () => {
    const client = await plain("addr", { "x-real-ip": "203.0.113.9", "x-forwarded-for": "203.0.113.10" });
    client.ws.send(JSON.stringify({ t: "env" }));
    await until(() => client.got.some((m) => m.t === "env"), "the backend's environment");
    const env = client.got.find((m) => m.t === "env")!.env as Record<string, string>;
    expect(env.REMOTE_ADDR).toBe("127.0.0.1");
    client.ws.close();
  });

  it("the review's attack (65 KB frames nested 29 deep, then just-under-limit ones) leaves an honest client in another room its echoes", async () => {
    const honest = await plain("honest");
    let sent = 0;
    let attackers = 0;
    const started = Date.now();
    while (Date.now() - started < 2000) {
      const attacker = await tryPlain(`attack-${attackers++ % 3}`);
      if (typeof attacker === "number") {
        await sleep(100); // barred (flooding) or out of joins: it tries again
        honest.ws.send(JSON.stringify({ t: "ping", data: ++sent }));
        await until(() => echoes(honest, "ping").some((m) => m.data === sent), "the honest client's echo");
        continue;
      }
      for (let i = 0; i < 20 && attacker.ws.readyState === WebSocket.OPEN; i++) {
        attacker.ws.send(i % 2 ? nestedFrame(29, 65_000) : nestedFrame(29, MESSAGE_LIMIT - 100));
        sent++;
      }
      honest.ws.send(JSON.stringify({ t: "ping", data: sent }));
      await until(() => echoes(honest, "ping").some((m) => m.data === sent), "the honest client's echo");
    }
    expect(honest.closed).toBeUndefined();
    expect(sent).toBeGreaterThan(0);
    honest.ws.close();
  });
});
