/**
 * Whether this process is draining (it got SIGTERM or SIGINT): `/healthz` then answers 503,
 * so a load balancer stops routing here while the rooms finish their grace period.
 */
export const drain = { active: false };

process.once("SIGTERM", () => (drain.active = true));
process.once("SIGINT", () => (drain.active = true));
