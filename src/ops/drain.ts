import { logger } from "@colyseus/core";

/**
 * Whether this process is draining (it got SIGTERM or SIGINT): `/healthz` then answers 503,
 * so a load balancer stops routing here while the rooms finish their grace period.
 */
export const drain = { active: false };

/**
 * A SIGINT this soon after the first one is the same Ctrl-C delivered twice, not a person
 * pressing it again: a terminal signals its whole foreground process group, and the tsx CLI
 * (`npm start`) relays what it gets to the server about 30 ms later on an idle machine. On a
 * busy one the relay came more than 300 ms late (a CI run: `npm run cluster` took it for a
 * second Ctrl-C and stopped without the final save), so a second press counts from 1 s on.
 */
export const SAME_CTRL_C_MS = 1000;

let installed = false;
let first: { signal: NodeJS.Signals; at: number } | undefined;

/**
 * The process's signal policy, installed once by src/index.ts before `listen()`:
 *
 * - the first SIGTERM or SIGINT starts the drain (`drain.active`; SIGINT also prints
 *   "draining; press Ctrl-C again to stop now");
 * - SIGTERM during a drain is ignored, with one log line (supervisors and process groups
 *   deliver it more than once);
 * - SIGINT during a drain (a person's second Ctrl-C) exits at once with 130.
 *
 * The drain itself is Colyseus's: `new Server()` (inside `listen()`) registers
 * `process.once(signal, gracefullyShutdown)` for SIGINT, SIGTERM and SIGUSR2
 * (@colyseus/core registerGracefulShutdown), which calls every room's `onBeforeShutdown`
 * (MMORoom: `server_shutdown`, the grace period, the last snapshot, close 4001) and then
 * `process.exit(0)`. Being a `once` listener, it is gone after the first signal, and so was
 * every listener this module used to add: a second SIGTERM then found no listener at all and
 * killed the process mid-drain, either by Node's default action or, under the tsx CLI, by
 * tsx's hidden signal handler in the child, which calls `process.exit(143)` when nobody else
 * listens. Under systemd's control-group kill the tsx CLI gets the SIGTERM too, waits 30 ms
 * for the server to report its own, and relays one when the report is late or came before tsx
 * was waiting for it: the server's second SIGTERM (and if that one's report is late too, tsx
 * SIGKILLs it; only the deploy recipes, with no tsx CLI, rule that out).
 *
 * So these listeners are permanent (`on`, never `once`): as long as one listens, neither
 * Node's default action nor tsx's handler ever ends the process, and only Colyseus (or the
 * second Ctrl-C) does. They are *prepended*, so they run before Colyseus's own listener even
 * when installed after it: `drain.active` is set before the rooms hear of the shutdown, and a
 * second SIGINT exits before anything else reacts. Colyseus's listener still being registered
 * when ours runs is also how we know someone will drain; when nobody does (a signal before
 * `listen()` built the server), the process stops as the default action would.
 */
export function installSignalPolicy(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.prependListener(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  const now = Date.now();
  if (!first) {
    first = { signal, at: now };
    drain.active = true;
    if (process.listenerCount(signal) <= 1) {
      // Nobody will drain (no server yet): let the signal do what it would without us.
      logger.info(`${signal} before the server started: stopping now`);
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
      return;
    }
    logger.info(signal === "SIGINT" ? "draining; press Ctrl-C again to stop now" : "SIGTERM: draining");
    return;
  }
  if (signal === "SIGINT") {
    if (first.signal === "SIGINT" && now - first.at < SAME_CTRL_C_MS) {
      logger.info(`SIGINT again within ${SAME_CTRL_C_MS} ms: the same Ctrl-C delivered twice; still draining`);
      return;
    }
    logger.warn("second SIGINT: stopping now, without finishing the drain (exit 130)");
    process.exit(130);
  }
  logger.info(`already draining: ignoring ${signal}`);
}
