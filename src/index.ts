import { listen } from "@colyseus/tools";
import app, { env } from "../arena.config";
import { sampleProcessStats } from "./ops/processStats";

// Colyseus 0.18 needs Node >= 22; npm scripts run the node@22 devDependency.
console.log(`Node ${process.version}`);
await listen(app, env.port);

// STATS_INTERVAL_MS=1000 prints a "STATS {json}" line per interval (CPU, memory, event-loop
// lag): the load test reads them.
if (env.statsIntervalMs > 0) sampleProcessStats(env.statsIntervalMs, (s) => console.log(`STATS ${JSON.stringify(s)}`));
