// `npm run scalesocket -- [OPTIONS] CMD [-- ARGS...]` (see ./server.ts). The Node check runs
// before the server and its dependencies are loaded (static imports would evaluate first).
import { requireSupportedNode } from "../../ops/nodeVersion";

requireSupportedNode();
await import("./server");
