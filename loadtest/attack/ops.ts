import { TEST_MONITOR_PASSWORD, metricValue, residentMB as rssMB } from "../../scripts/lib";
import type { Scenario } from "./scenarios";

// The operations findings of the security review (issue 20): /monitor brute force (7) and the
// memory of worlds one address creates and abandons (4). Both speak from several client
// addresses (X-Forwarded-For behind one trusted proxy), as a botnet or a proxy's clients would.

const heapMB = async (endpoint: string) => (await metricValue(endpoint, "mmo_node_nodejs_heap_size_used_bytes")) / 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

export const OPS_SCENARIOS: Scenario[] = [
  {
    name: "monitor brute force",
    env: { TRUST_PROXY: "1" },
    async run({ server, quick }) {
      const n = quick ? 15 : 60;
      const monitor = (ip: string, password: string) => fetch(`${server.endpoint}/monitor/api`, { headers: { "x-forwarded-for": ip, authorization: basic(password) } });
      let refused = 0;
      let firstRefusal = 0;
      for (let i = 0; i < n; i++) {
        const res = await monitor("203.0.113.66", `guess-${i}`);
        await res.arrayBuffer();
        if (res.status === 429) {
          refused++;
          firstRefusal ||= i + 1;
        }
      }
      const other = await monitor("203.0.113.67", TEST_MONITOR_PASSWORD);
      await other.arrayBuffer();
      const note = firstRefusal ? `429 after ${firstRefusal - 1} tries; the right password from another address: ${other.status}` : `never refused in ${n} tries!`;
      return { sent: n + 1, refused, note };
    },
  },
  {
    name: "abandoned worlds (memory)",
    // The demo game as shipped (300 gems, 60 NPCs): what an idle world of it costs.
    env: { TRUST_PROXY: "1", GAME_GEMS: "300", GAME_NPCS: "60" },
    async run({ server, quick }) {
      const worlds = quick ? 12 : 60;
      let sent = 0;
      let refused = 0;
      const create = async (world: string, ip: string) => {
        sent++;
        const res = await fetch(`${server.endpoint}/matchmake/joinOrCreate/mmo`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": ip },
          body: JSON.stringify({ world }),
        });
        await res.arrayBuffer();
        if (res.status !== 200) refused++;
        return res.status === 200;
      };
      const rss0 = await rssMB(server.endpoint);
      const heap0 = await heapMB(server.endpoint);
      const rooms0 = await metricValue(server.endpoint, "mmo_rooms");
      // One address asks for 10 worlds: its quota (MMO_ROOMS_PER_ADDRESS, 4) is what it gets.
      let greedy = 0;
      for (let i = 0; i < 10; i++) if (await create(`greedy-${i}`, "203.0.113.90")) greedy++;
      // Then worlds from many addresses (4 each), none entered.
      for (let created = 0, i = 0; created < worlds && i < worlds * 2; i++) if (await create(`abandoned-${i}`, `198.51.100.${Math.floor(i / 4) + 1}`)) created++;
      const peak = (await rssMB(server.endpoint)) - rss0;
      const live = (await metricValue(server.endpoint, "mmo_rooms")) - rooms0;
      const start = Date.now();
      while ((await metricValue(server.endpoint, "mmo_rooms")) > rooms0 && Date.now() - start < 60_000) await sleep(250);
      const closedIn = Math.ceil((Date.now() - start) / 1000);
      const left = (await metricValue(server.endpoint, "mmo_rooms")) - rooms0;
      await sleep(2000);
      const settled = (await rssMB(server.endpoint)) - rss0;
      // Heap in use before V8's next major collection: the closed worlds' garbage is still counted.
      const heap = (await heapMB(server.endpoint)) - heap0;
      const note =
        `peak RSS +${peak.toFixed(1)} MB for ${live} worlds (${(peak / Math.max(1, live)).toFixed(2)} MB each), settled +${settled.toFixed(1)} MB (heap +${heap.toFixed(1)}, not yet collected); ` +
        `all closed within ${closedIn} s (${left} left); one address got ${greedy} of 10`;
      return { sent, refused, note };
    },
  },
];
