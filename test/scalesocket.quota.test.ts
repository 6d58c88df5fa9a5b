import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { type ManagedProcess, freePort, startProcess, tsx } from "../scripts/lib";

// Security review, issue 20 (4), for ScaleSocket's plain WebSocket clients: each room they
// create spawns a backend, so it is charged to the client's address like a matchmaking
// creation (src/ops/roomsPerAddress.ts). `--json cat` is ScaleSocket's chat example.
let server: { proc: ManagedProcess; port: number };

beforeAll(async () => {
  const port = await freePort();
  const proc = await startProcess(...tsx("src/bridge/scalesocket/main.ts", "--addr", `127.0.0.1:${port}`, "--json", "cat"), {
    ready: "scalesocket: listening",
    readyMs: 30_000,
    env: { MMO_ROOMS_PER_ADDRESS: "2", TRUST_PROXY: "1" },
  });
  server = { proc, port };
}, 60_000);
afterAll(async () => {
  await server?.proc.stop("SIGKILL");
});

/** Opens a plain client from `ip` (X-Forwarded-For, one trusted proxy): the socket, or the HTTP status and body of a refused upgrade. */
function open(path: string, ip: string): Promise<WebSocket | { status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers: { "x-forwarded-for": ip } });
    ws.on("open", () => resolve(ws));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", () => {});
  });
}

it("plain WebSocket clients of one address create at most MMO_ROOMS_PER_ADDRESS rooms; they still join existing rooms, and other addresses create their own", async () => {
  const a = await open("/one", "198.51.100.40");
  const b = await open("/two", "198.51.100.40");
  expect(a).toBeInstanceOf(WebSocket);
  expect(b).toBeInstanceOf(WebSocket);
  const third = await open("/three", "198.51.100.40");
  expect(third).not.toBeInstanceOf(WebSocket);
  expect((third as { body: string }).body).toMatch(/as many live rooms on this server as it may \(2\)/);
  const join = await open("/one", "198.51.100.40");
  expect(join).toBeInstanceOf(WebSocket);
  const other = await open("/three", "198.51.100.41");
  expect(other).toBeInstanceOf(WebSocket);
  for (const ws of [a, b, join, other]) (ws as WebSocket).close();
});
