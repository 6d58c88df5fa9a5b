// The game server's entry point (`npm start`, `npm run start:prod`, `npm run dev`).
// The Node check runs before anything else is loaded: static imports would evaluate first,
// so the server itself (src/server.ts) is imported after it.
import { requireSupportedNode } from "./ops/nodeVersion";

requireSupportedNode();
try {
  await import("./server");
} catch (error) {
  // A refused configuration is one line that names the variable, not a stack trace.
  if (!(error instanceof Error) || error.name !== "ConfigError") throw error;
  console.error(`Refusing to start: ${error.message}`);
  process.exit(1);
}
