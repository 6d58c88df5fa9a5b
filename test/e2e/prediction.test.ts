import { matchMaker } from "@colyseus/core";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MMORoom } from "../../src/framework/MMORoom";
import { type Snapshot, openPlayer, snapshot, waitFor } from "./browser";
import { type Game, startGame } from "./game";
import { delayProxy } from "./delayProxy";
import { type FrameSample, recordFrames } from "./motion";

// The own player, predicted: a page holds ArrowRight for 1.5 s and lets go, through a proxy
// that delays every message 75 ms each way (150 ms round trip), and directly. The sprite must
// stop where the player saw it stop, and must not be pulled back while it walks. (Before
// acks and replay, the drawn player slid 36-82 units on after the release and was pulled
// back 28-60 units in total with the delay.)
const DELAY_MS = 75;
const HOLD_MS = 1500;
/** Bounds on the slide after the release and on all backward steps of the run, in units. */
const MAX_SLIDE = 10;
const MAX_BACKWARD = 10;
/** The drawn player ends this close to the server's position. */
const AGREE = 2;

let game: Game;
let base: string;
let context: BrowserContext;

beforeAll(async () => {
  game = await startGame();
  ({ base, context } = game);
}, 60_000);

afterAll(() => game?.stop(), 30_000);

async function serverX(world: string, sessionId: string): Promise<number> {
  const listing = (await matchMaker.query({ name: "mmo" })).find((r) => r.metadata?.world === world);
  const room = matchMaker.getLocalRoomById(listing!.roomId) as unknown as MMORoom;
  return room.state.players.get(sessionId)!.x;
}

/** Slide after the release and backward steps, from a recording and the release's time. */
function measure(frames: FrameSample[], releasedAt: number) {
  const before = frames.filter((f) => f.at < releasedAt);
  const after = frames.filter((f) => f.at >= releasedAt);
  const atRelease = before[before.length - 1].x;
  let backward = 0;
  for (let i = 1; i < frames.length; i++) backward += Math.max(0, frames[i - 1].x - frames[i].x);
  const span = frames[frames.length - 1].t - frames[0].t;
  return {
    slide: Math.max(...after.map((f) => f.x)) - atRelease,
    backward,
    walked: atRelease - frames[0].x,
    final: frames[frames.length - 1].x,
    fps: ((frames.length - 1) * 1000) / span,
  };
}

describe("own player prediction", () => {
  for (const delay of [DELAY_MS, 0]) {
    it(`stops where the player saw it stop and is never pulled back (${delay} ms each way)`, async () => {
      const proxy = delay > 0 ? await delayProxy(base, delay) : undefined;
      const world = `e2e-predict-${delay}`;
      const page = await openPlayer(context, proxy?.base ?? base, `world=${world}&name=Pia&x=1000&y=1000`);
      const { id } = await waitFor(page, "placed", (s) => s.self?.x === 1000);
      await page.bringToFront();
      await page.waitForTimeout(500); // a few pings and patches

      const recording = recordFrames(page, { own: true }, HOLD_MS + 2000);
      await page.waitForTimeout(200);
      await page.keyboard.down("ArrowRight");
      await page.waitForTimeout(HOLD_MS);
      await page.keyboard.up("ArrowRight");
      const { frames, keys } = await recording;
      const releasedAt = keys.find((k) => k.type === "keyup")!.at;
      const m = measure(frames, releasedAt);
      const truth = await serverX(world, id!);
      const { pingMs } = (await snapshot(page)) as Snapshot & { pingMs: number };
      console.log(
        `own player, ${delay} ms each way (ping ${pingMs} ms): ${m.fps.toFixed(1)} fps, walked ${m.walked.toFixed(1)}, slide after release ${m.slide.toFixed(1)}, ` +
          `backward ${m.backward.toFixed(1)}, final drawn ${m.final.toFixed(1)} vs server ${truth.toFixed(1)}`,
      );
      expect(m.walked).toBeGreaterThan(300); // 1.5 s at 240 units/s
      if (delay > 0) expect(pingMs).toBeGreaterThanOrEqual(2 * delay); // the proxy did delay
      expect(m.slide).toBeLessThanOrEqual(MAX_SLIDE);
      expect(m.backward).toBeLessThanOrEqual(MAX_BACKWARD);
      expect(Math.abs(m.final - truth)).toBeLessThanOrEqual(AGREE);
      await page.close();
      await proxy?.close();
    });
  }
});
