import { listen } from "@colyseus/tools";
import app, { env } from "../arena.config";
import { installSignalPolicy } from "./ops/drain";
import { sampleProcessStats } from "./ops/processStats";

// Which Node runs the server (src/index.ts refused anything older than 22 already).
console.log(`Node ${process.version}`);
// Before listen(): SIGTERM/SIGINT drain once, repeats are ignored, a second Ctrl-C stops now
// (src/ops/drain.ts explains how it sits next to Colyseus's own handlers).
installSignalPolicy();
await listen(app, env.port);

// STATS_INTERVAL_MS=1000 prints a "STATS {json}" line per interval (CPU, memory, event-loop
// lag): the load test reads them.
if (env.statsIntervalMs > 0) sampleProcessStats(env.statsIntervalMs, (s) => console.log(`STATS ${JSON.stringify(s)}`));
