// The toolbox for processes: tests, the load test, the soak, the benchmark and `npm run
// cluster` start, watch and stop their children with these, and nothing else.
export { cliOptions } from "./cli";
export { ensureDebianPackage } from "./debian";
export { onLines } from "./lines";
export { freePort } from "./ports";
export { ROOT, type ManagedProcess, type StartOptions, startProcess, stopProcess, tsx, waitForOutput } from "./process";
export { startRedis } from "./redis";
export { type ServerOptions, type ServerProcess, TEST_METRICS_TOKEN, TEST_MONITOR_PASSWORD, metricValue, metricsText, residentMB, startServer } from "./server";
