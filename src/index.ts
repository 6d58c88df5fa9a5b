import { listen } from "@colyseus/tools";
import app from "../arena.config";
import { sampleProcessStats } from "./processStats";

// Colyseus 0.18 needs Node >= 22; npm scripts run the node@22 devDependency.
console.log(`Node ${process.version}`);
await listen(app);

// STATS_INTERVAL_MS=1000 prints a "STATS {json}" line per interval (CPU, memory, event-loop
// lag): the load test reads them.
const interval = Number(process.env.STATS_INTERVAL_MS);
if (interval > 0) sampleProcessStats(interval, (s) => console.log(`STATS ${JSON.stringify(s)}`));
