import Phaser from "phaser";
import { JoinErrorCodes } from "@shared/codes";
import { readVar } from "@shared/vars";
import { Hud } from "./hud";
import { Net } from "./net";
import { readParams, serverEndpoint } from "./params";
import { openPicker } from "./picker";
import { WorldScene } from "./WorldScene";

const params = readParams();
const scene = new WorldScene((keys) => net.send("input", keys));

const game = new Phaser.Game({
  type: Phaser.AUTO,
  parent: "game",
  backgroundColor: "#0b1020",
  // A fixed 960x640 view of the world, scaled to the window; the AoI (560x400 half-extents
  // by default) is slightly larger, so entities enter and leave off-screen.
  scale: { mode: Phaser.Scale.FIT, autoCenter: Phaser.Scale.CENTER_BOTH, width: 960, height: 640 },
  scene,
});

const hud = new Hud(
  (text) => net.send("chat", { text }),
  () => {
    hud.hideOverlay();
    void net.connect();
  },
  (open) => scene.setTyping(open),
);

hud.onNewGuest(() => {
  hud.hideOverlay();
  void net.connect(false, true);
});

/** Where the own player was last: a rejoin after a drain resumes there. */
let lastPosition: { x: number; y: number } | undefined;
const net: Net = new Net(serverEndpoint(), params, {
  status(status, detail) {
    hud.setStatus(status, detail ?? "");
    if (status === "disconnected") hud.showOverlay("Disconnected", detail || "The connection to the game server ended.", net.refusal === JoinErrorCodes.IDENTITY_IN_USE);
    else hud.hideOverlay();
  },
  joined(room, rejoin) {
    scene.attach(room);
    // Leave limbo: where the player was before a move to another server, at the position
    // the URL asks for, or wherever the server finds room.
    const at = (rejoin && lastPosition) || params.start;
    if (at) net.send("position", at);
    else net.send("spawn");
  },
  shutdownNotice(seconds) {
    hud.addChatLine("server", `this server is restarting: moving you in ${seconds} s`);
  },
  reconnected() {
    scene.resync();
  },
  switched(_from, to) {
    // A handoff to the neighbouring region's room: the same player, nothing to redo (no
    // position, no spawn); the scene keeps what it draws and goes on with the new room.
    scene.switchRoom(to);
  },
  chat(m) {
    hud.addChatLine(m.name, m.text);
    scene.showBubble(m.from, m.text);
  },
  serverError(e) {
    console.warn(`[server] ${e.code}: ${e.message}`);
    // The page only sends `position` to leave limbo: one the server refused (a start outside the
    // region joined, or far from where a returning player was) leaves it where the server puts it.
    if (e.request === "position" && (e.code === "OUT_OF_REGION" || e.code === "TOO_FAST")) net.send("spawn");
  },
});

// The HUD's numbers, a few times a second.
setInterval(() => {
  // The room drawn: during a handoff, the old one until the new one's state is here.
  const room = scene.room ?? net.room;
  const state = room?.state;
  const me = room ? state?.players?.get(room.sessionId) : undefined;
  if (me && scene.own) lastPosition = { x: scene.own.x, y: scene.own.y };
  hud.setStats({
    world: params.world,
    region: net.region,
    x: scene.own?.x ?? me?.x ?? 0,
    y: scene.own?.y ?? me?.y ?? 0,
    playersInView: Math.max(0, (state?.players?.size ?? 0) - (me ? 1 : 0)),
    userCount: state?.userCount ?? 0,
    itemsInView: state?.items?.size ?? 0,
    score: String(readVar(me?.vars, "score") ?? 0),
    pingMs: net.pingMs,
  });
}, 200);

/** A read-only view of the client for tests and debugging: `window.__mmo.snapshot()`. */
const api = {
  snapshot() {
    // The room drawn (during a handoff: the old one until the new one's state is here).
    const room = scene.room ?? net.room;
    const state = room?.state;
    const me = room ? state?.players?.get(room.sessionId) : undefined;
    const players: Array<{ id: string; name: string; x: number; y: number }> = [];
    state?.players?.forEach((p, id) => {
      if (id !== room!.sessionId) players.push({ id, name: p.name, x: p.x, y: p.y });
    });
    const items: Array<{ id: string; kind: string; x: number; y: number }> = [];
    state?.items?.forEach((it, id) => items.push({ id, kind: it.kind, x: it.x, y: it.y }));
    return {
      id: room?.sessionId ?? null,
      roomId: room?.roomId ?? null,
      world: params.world,
      /** The region of the room the player is in ("": the entry region, or an unsplit world). */
      region: net.region,
      /** The room the player is in (the one sends go to), and the handoffs followed. */
      netRoomId: net.room?.roomId ?? null,
      handoffs: net.handoffs,
      status: net.status,
      statusDetail: net.detail,
      statusHistory: [...net.history],
      overlay: document.getElementById("overlay")!.hidden ? null : document.getElementById("overlay-text")!.textContent,
      // predicted: the prediction; drawn: where the sprite is (the prediction plus a fading correction).
      self: me ? { x: me.x, y: me.y, ...scene.ownPosition(me), score: String(readVar(me.vars, "score") ?? 0), name: me.name, label: scene.ownLabelText ?? null } : null,
      interpolationDelayMs: scene.interpolationDelayMs,
      players,
      items,
      drawn: scene.drawn(),
      userCount: state?.userCount ?? 0,
      chat: [...hud.chatLines],
      pingMs: net.pingMs,
      renderer: game.renderer?.type === Phaser.WEBGL ? "WEBGL" : game.renderer?.type === Phaser.CANVAS ? "CANVAS" : "NONE",
      frames: scene.frames,
      debug: scene.debugOn,
    };
  },
  /** What the renderer last drew: how many colours, and the share of pixels that are not background. */
  canvasStats(): Promise<{ width: number; height: number; distinctColors: number; nonBackgroundRatio: number; aoiBoxRatio: number }> {
    return new Promise((resolve) => {
      game.renderer.snapshot((image) => {
        const img = image as HTMLImageElement;
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext("2d")!;
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        const colors = new Set<number>();
        let samples = 0;
        let nonBackground = 0;
        let aoiBox = 0;
        for (let i = 0; i < data.length; i += 4 * 5) {
          const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
          colors.add(rgb);
          samples++;
          if (rgb !== 0x0b1020 && rgb !== 0x14213d) nonBackground++;
          if (rgb === 0xff4d6d) aoiBox++; // the F3 AoI box's colour, drawn opaque
        }
        resolve({ width: c.width, height: c.height, distinctColors: colors.size, nonBackgroundRatio: nonBackground / samples, aoiBoxRatio: aoiBox / samples });
      });
    });
  },
};
(window as unknown as { __mmo: typeof api }).__mmo = api;

// No ?world= in the URL: the world picker first (it loads the page for the chosen world).
if (params.pick) void openPicker(serverEndpoint());
else void net.connect();
