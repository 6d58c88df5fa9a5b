// The bunny game's page (ScaleSocket's multiplayer example) on the process bridge room: the
// game logic is examples/bunny/server.py; this page only draws its state and sends clicks.
import { Client } from "@colyseus/sdk";
import { serverEndpoint } from "./params";

type Bunnies = Record<string, { x: number; y: number }>;
const canvas = document.getElementById("field") as HTMLCanvasElement;
const info = document.getElementById("info")!;
const ctx = canvas.getContext("2d")!;
const roomName = new URLSearchParams(location.search).get("room") || "default";
let bunnies: Bunnies = {};
let me = "";

function resize(): void {
  canvas.width = innerWidth;
  canvas.height = innerHeight;
}

function draw(): void {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const [id, b] of Object.entries(bunnies)) {
    // A bunny drawn with shapes (no emoji font needed): ears, head, eyes.
    ctx.fillStyle = id === me ? "#fff59d" : "#f5f5f5";
    for (const dx of [-6, 6]) {
      ctx.beginPath();
      ctx.ellipse(b.x + dx, b.y - 18, 4, 11, 0, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.beginPath();
    ctx.arc(b.x, b.y, 12, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#212121";
    ctx.fillRect(b.x - 5, b.y - 3, 3, 3);
    ctx.fillRect(b.x + 2, b.y - 3, 3, 3);
    ctx.font = "12px system-ui";
    ctx.textAlign = "center";
    ctx.fillStyle = id === me ? "#ffeb3b" : "#c8e6c9";
    ctx.fillText(id === me ? "you" : id.slice(0, 4), b.x, b.y + 26);
  }
  requestAnimationFrame(draw);
}

async function main(): Promise<void> {
  resize();
  addEventListener("resize", resize);
  try {
    const room = await new Client(serverEndpoint()).joinOrCreate("process", { room: roomName });
    room.onMessage("Welcome", (m: { data: { id: number } }) => (me = String(m.data.id)));
    room.onMessage("State", (m: { data: Bunnies }) => {
      bunnies = m.data;
      info.textContent = `room "${roomName}": ${Object.keys(bunnies).length} bunnies. Click to hop.`;
    });
    room.onMessage("process_exit", () => (info.textContent = "the game's backend stopped"));
    room.onLeave(() => (info.textContent = "disconnected"));
    canvas.addEventListener("pointerdown", (e) => room.send("Input", { x: e.clientX, y: e.clientY }));
    (window as unknown as { __bunny: unknown }).__bunny = { state: () => ({ me, bunnies }) };
  } catch (e) {
    info.textContent = `cannot join: ${(e as Error).message}`;
  }
  draw();
}

void main();
