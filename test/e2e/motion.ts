import type { Page } from "playwright-core";

/**
 * One animation frame: its timestamp `t` (the time the frame draws for), when it was drawn
 * (`at`, performance.now() once the game's own frame callback ran) and a drawn position.
 */
export interface FrameSample {
  t: number;
  at: number;
  x: number;
  y: number;
}

/** A key event as the page saw it (performance.now() in a capturing listener). */
export interface KeyEvent {
  type: "keydown" | "keyup";
  key: string;
  at: number;
}

/** Which drawn sprite to record: a remote entity by id, or the own player. */
export type Subject = { remote: string } | { own: true };

/**
 * Records where the page draws `subject` on every animation frame for `ms`, in the page
 * itself (requestAnimationFrame), so no frame is missed the way polling from the test
 * would miss them. `t` is the frame's timestamp, the same clock the game draws with. Key
 * events during the recording come with it (keys pressed from the test meanwhile).
 */
export async function recordFrames(page: Page, subject: Subject, ms: number): Promise<{ frames: FrameSample[]; keys: KeyEvent[] }> {
  return page.evaluate(
    ({ subject, ms }) =>
      new Promise<{ frames: FrameSample[]; keys: KeyEvent[] }>((resolve) => {
        type Api = { snapshot(): { drawn: Array<{ id: string; x: number; y: number }>; self: { drawnX?: number; drawnY?: number; predictedX: number; predictedY: number } | null } };
        const api = (window as unknown as { __mmo: Api }).__mmo;
        const out: FrameSample[] = [];
        const keys: KeyEvent[] = [];
        const onKey = (e: KeyboardEvent) => keys.push({ type: e.type as KeyEvent["type"], key: e.key, at: performance.now() });
        window.addEventListener("keydown", onKey, true);
        window.addEventListener("keyup", onKey, true);
        const end = performance.now() + ms;
        const frame = (t: number) => {
          const s = api.snapshot();
          const own = s.self && { x: s.self.drawnX ?? s.self.predictedX, y: s.self.drawnY ?? s.self.predictedY };
          const at = "remote" in subject ? s.drawn.find((d) => d.id === subject.remote) : own;
          out.push({ t, at: performance.now(), x: at ? at.x : Number.NaN, y: at ? at.y : Number.NaN });
          if (performance.now() < end) return void requestAnimationFrame(frame);
          window.removeEventListener("keydown", onKey, true);
          window.removeEventListener("keyup", onKey, true);
          resolve({ frames: out, keys });
        };
        requestAnimationFrame(frame);
      }),
    { subject, ms },
  );
}

/** The value below which `p` (0..1) of the sorted values lie. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))));
  return sorted[i];
}

/** Drawn speed (units/s) between consecutive frames, and the frame rate, of a recording. */
export function frameSpeeds(frames: FrameSample[]): { speeds: number[]; fps: number } {
  const speeds: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const dt = frames[i].t - frames[i - 1].t;
    if (dt <= 0) continue;
    speeds.push((Math.hypot(frames[i].x - frames[i - 1].x, frames[i].y - frames[i - 1].y) * 1000) / dt);
  }
  const span = frames.length > 1 ? frames[frames.length - 1].t - frames[0].t : 0;
  return { speeds, fps: span > 0 ? ((frames.length - 1) * 1000) / span : 0 };
}

/** p10, median, p90 and max of some values, rounded, for assertions and the log. */
export function spread(values: number[]): { p10: number; p50: number; p90: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v);
  return { p10: r(percentile(s, 0.1)), p50: r(percentile(s, 0.5)), p90: r(percentile(s, 0.9)), max: r(s[s.length - 1] ?? Number.NaN) };
}
