/** One sample of this process's health over the last interval. */
export interface ProcessStats {
  at: number;
  /** CPU time used over the interval, as a share of one core (1 = 100%). */
  cpu: number;
  rssMB: number;
  heapMB: number;
  /** Event-loop lag over the interval, in ms: how late a 5 ms timer fired. */
  lagMs: { median: number; p99: number; max: number };
  /** Open handles (sockets, timers, ...) and pending requests: a leak shows here. */
  handles: number;
  /** The same lags as counts per whole millisecond ("3": 12 means twelve lags of 3.x ms), so intervals can be merged. */
  lagBuckets: Record<string, number>;
}

const TICK_MS = 5;

/** Percentile `p` (0..1) of lags given as counts per whole millisecond. */
export function bucketPercentile(buckets: Map<number, number> | Record<string, number>, p: number): number {
  const entries = (buckets instanceof Map ? [...buckets] : Object.entries(buckets).map(([k, v]) => [Number(k), v] as const)).sort(
    (a, b) => a[0] - b[0],
  );
  const total = entries.reduce((n, [, c]) => n + c, 0);
  let seen = 0;
  for (const [ms, count] of entries) {
    seen += count;
    if (seen >= p * total) return ms;
  }
  return entries.length ? entries[entries.length - 1][0] : 0;
}

/**
 * Samples CPU, memory and event-loop lag every `intervalMs` and hands each sample to
 * `report`. The lag is measured by a 5 ms timer: how much later than due it fires.
 * Returns a function that stops sampling.
 */
export function sampleProcessStats(intervalMs: number, report: (s: ProcessStats) => void): () => void {
  let buckets = new Map<number, number>();
  let maxLag = 0;
  let expected = performance.now() + TICK_MS;
  const tick = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - expected);
    expected = now + TICK_MS;
    const b = Math.floor(lag);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
    if (lag > maxLag) maxLag = lag;
  }, TICK_MS);
  tick.unref();

  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const mem = process.memoryUsage();
    report({
      at: Date.now(),
      cpu: (cpu.user + cpu.system) / 1000 / (now - lastAt),
      rssMB: mem.rss / 2 ** 20,
      heapMB: mem.heapUsed / 2 ** 20,
      lagMs: { median: bucketPercentile(buckets, 0.5), p99: bucketPercentile(buckets, 0.99), max: maxLag },
      lagBuckets: Object.fromEntries(buckets),
      handles: activeHandles(),
    });
    buckets = new Map();
    maxLag = 0;
    lastCpu = process.cpuUsage();
    lastAt = now;
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    clearInterval(tick);
  };
}

/** Open resources (sockets, timers, file handles, pending requests), by Node's public API. */
function activeHandles(): number {
  return process.getActiveResourcesInfo().length;
}
