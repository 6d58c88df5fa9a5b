import { listen } from "@colyseus/tools";
import app from "../arena.config";

// Colyseus 0.18 needs Node >= 22; npm scripts run the node@22 devDependency.
console.log(`Node ${process.version}`);
await listen(app);
