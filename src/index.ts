// The game server's entry point (`npm start`, `npm run start:prod`, `npm run dev`).
// The Node check runs before anything else is loaded: static imports would evaluate first,
// so the server itself (src/server.ts) is imported after it.
import { requireSupportedNode } from "./ops/nodeVersion";

requireSupportedNode();
await import("./server");
