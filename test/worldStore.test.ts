import * as fsp from "node:fs/promises";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { logger } from "@colyseus/core";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FileWorldStore } from "../src/framework/persistence/FileWorldStore";
import { RedisWorldStore } from "../src/framework/persistence/RedisWorldStore";
import type { WorldSnapshot } from "../src/framework/persistence/WorldStore";
import { startRedis } from "./helpers/cluster";

const snap = (nextItemId: number): WorldSnapshot => ({ version: 1, savedAt: nextItemId, nextItemId, items: [], players: {} });
const freshDir = () => mkdtempSync(join(tmpdir(), "mmo-worldstore-"));
const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

/** `fs/promises` whose file handles write the first 10 bytes, then fail like a full disk. */
const fullDisk = {
  ...fsp,
  open: (async (...args: Parameters<typeof fsp.open>) => {
    const handle = await fsp.open(...args);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === "writeFile")
          return async (data: string) => {
            await target.write(String(data).slice(0, 10));
            throw enospc();
          };
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }) as typeof fsp.open,
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("FileWorldStore: concurrent saves", () => {
  it("50 concurrent saves of one world all resolve; the file holds the last; no temporary file is left", async () => {
    const store = new FileWorldStore(freshDir());
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => store.save("flood", snap(i))));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect((await store.load("flood"))?.nextItemId).toBe(49);
    expect(JSON.parse(readFileSync(join(store.dir, "world-flood.json"), "utf8")).nextItemId).toBe(49);
    expect(tempFiles(store.dir)).toEqual([]);
  });

  it("saves of one world never interleave; a later save waits for the earlier one; other worlds are independent", async () => {
    let open = 0;
    let most = 0;
    const slowRename = (async (from: string, to: string) => {
      if (String(to).endsWith("world-a.json")) {
        open++;
        most = Math.max(most, open);
        await new Promise((r) => setTimeout(r, 20));
        open--;
      }
      return fsp.rename(from, to);
    }) as typeof fsp.rename;
    const store = new FileWorldStore(freshDir(), { fs: { rename: slowRename } });
    const first = store.save("a", snap(1));
    await new Promise((r) => setTimeout(r, 5)); // the first write is under way
    const rest = [store.save("a", snap(2)), store.save("a", snap(3)), store.save("b", snap(9))];
    await Promise.all([first, ...rest]);
    expect(most).toBe(1);
    expect((await store.load("a"))?.nextItemId).toBe(3);
    expect((await store.load("b"))?.nextItemId).toBe(9);
    // A load waits for the saves queued before it.
    void store.save("a", snap(4));
    expect((await store.load("a"))?.nextItemId).toBe(4);
  });

  it("refuses a world name that is not a plain file name", async () => {
    const store = new FileWorldStore(freshDir());
    await expect(store.save("../escape", snap(1))).rejects.toThrow(/world name/);
    await expect(store.load("a/b")).rejects.toThrow(/world name/);
  });
});

describe("FileWorldStore: write errors", () => {
  it("a full disk (a write fails halfway): the save throws and no temporary file is left, after many tries", async () => {
    const dir = freshDir();
    const good = new FileWorldStore(dir);
    await good.save("w", snap(1));
    const store = new FileWorldStore(dir, { fs: fullDisk });
    for (let i = 0; i < 5; i++) await expect(store.save("w", snap(2 + i))).rejects.toMatchObject({ code: "ENOSPC" });
    expect(tempFiles(dir)).toEqual([]);
    expect(readdirSync(dir)).toEqual(["world-w.json"]);
    expect((await good.load("w"))?.nextItemId).toBe(1); // the world is untouched
  });

  it("a failing fsync, open or rename: the error is thrown, the temporary file removed, the world still readable", async () => {
    const dir = freshDir();
    const good = new FileWorldStore(dir);
    await good.save("w", snap(1));
    await good.save("w", snap(2));

    const failOpen = new FileWorldStore(dir, { fs: { open: (async () => { throw enospc(); }) as typeof fsp.open } });
    await expect(failOpen.save("w", snap(3))).rejects.toMatchObject({ code: "ENOSPC" });

    const failSync = new FileWorldStore(dir, {
      fs: {
        open: (async (...args: Parameters<typeof fsp.open>) => {
          const h = await fsp.open(...args);
          h.sync = async () => {
            throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
          };
          return h;
        }) as typeof fsp.open,
      },
    });
    await expect(failSync.save("w", snap(4))).rejects.toMatchObject({ code: "EIO" });

    // The last rename (temporary file over the world) fails after the previous generation was kept.
    const failRename = new FileWorldStore(dir, {
      fs: {
        rename: (async (from: string, to: string) => {
          if (String(from).endsWith(".tmp") && String(to).endsWith("world-w.json")) throw Object.assign(new Error("EXDEV"), { code: "EXDEV" });
          return fsp.rename(from, to);
        }) as typeof fsp.rename,
      },
    });
    await expect(failRename.save("w", snap(5))).rejects.toMatchObject({ code: "EXDEV" });

    expect(tempFiles(dir)).toEqual([]);
    expect((await good.load("w"))?.nextItemId).toBe(2);
    // And the store still works once the disk does.
    await good.save("w", snap(6));
    expect((await good.load("w"))?.nextItemId).toBe(6);
    expect(tempFiles(dir)).toEqual([]);
  });

  it("removes temporary files a crashed process left behind (older than a minute)", async () => {
    const dir = freshDir();
    const stale = join(dir, "world-w.json.99999.1.abcdef.tmp");
    writeFileSync(stale, "{ half");
    const old = new Date(Date.now() - 120_000);
    await fsp.utimes(stale, old, old);
    const fresh = join(dir, "world-w.json.99999.2.abcdef.tmp"); // maybe another process's, in flight
    writeFileSync(fresh, "{ half");
    await new FileWorldStore(dir).save("w", snap(1));
    expect(tempFiles(dir)).toEqual(["world-w.json.99999.2.abcdef.tmp"]);
  });
});

describe("FileWorldStore: generations and damaged files", () => {
  it("keeps the previous generation as world-<name>.prev.json", async () => {
    const store = new FileWorldStore(freshDir());
    await store.save("w", snap(1));
    expect(readdirSync(store.dir)).toEqual(["world-w.json"]);
    await store.save("w", snap(2));
    await store.save("w", snap(3));
    expect(readdirSync(store.dir).sort()).toEqual(["world-w.json", "world-w.prev.json"]);
    expect(JSON.parse(readFileSync(join(store.dir, "world-w.prev.json"), "utf8")).nextItemId).toBe(2);
    expect((await store.load("w"))?.nextItemId).toBe(3);
  });

  it("a truncated world file is logged, moved aside as .corrupt-<time>.json, and the previous generation loaded", async () => {
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const store = new FileWorldStore(freshDir());
    await store.save("w", snap(1));
    await store.save("w", snap(2));
    const text = readFileSync(join(store.dir, "world-w.json"), "utf8");
    writeFileSync(join(store.dir, "world-w.json"), text.slice(0, 20));

    expect((await store.load("w"))?.nextItemId).toBe(1);
    expect(errors).toHaveBeenCalledTimes(1);
    const line = String(errors.mock.calls[0].join(" "));
    expect(line).toContain('"w"');
    expect(line).toContain(join(store.dir, "world-w.json"));
    expect(line).toMatch(/JSON/); // the reason
    expect(line).toContain("world-w.prev.json");
    const corrupt = readdirSync(store.dir).filter((f) => f.includes(".corrupt-"));
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]).toMatch(/^world-w\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.json$/);
    expect(readFileSync(join(store.dir, corrupt[0]), "utf8")).toBe(text.slice(0, 20));

    // The next save writes a good file; the recovered generation stays as the previous one.
    await store.save("w", snap(3));
    expect((await store.load("w"))?.nextItemId).toBe(3);
    expect(JSON.parse(readFileSync(join(store.dir, "world-w.prev.json"), "utf8")).nextItemId).toBe(1);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it("an empty world file and a damaged previous generation: logged, a new world (undefined), never a throw", async () => {
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const store = new FileWorldStore(freshDir());
    await store.save("w", snap(1));
    await store.save("w", snap(2));
    writeFileSync(join(store.dir, "world-w.json"), "");
    writeFileSync(join(store.dir, "world-w.prev.json"), '{"version":2}');
    expect(await store.load("w")).toBeUndefined();
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0].join(" "))).toMatch(/empty/);
    expect(readdirSync(store.dir).filter((f) => f.includes(".corrupt-"))).toHaveLength(1);
  });

  it("a damaged world file without a previous generation: a new world", async () => {
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const store = new FileWorldStore(freshDir());
    writeFileSync(join(store.dir, "world-w.json"), '{"version":1,"items":"no"}');
    expect(await store.load("w")).toBeUndefined();
    expect(errors).toHaveBeenCalledTimes(1);
    expect(readdirSync(store.dir).filter((f) => f.includes(".corrupt-"))).toHaveLength(1);
  });

  it("a missing world file with a previous generation (a crash between renames): the previous one, logged", async () => {
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const store = new FileWorldStore(freshDir());
    await store.save("w", snap(1));
    await store.save("w", snap(2));
    await fsp.unlink(join(store.dir, "world-w.json"));
    expect((await store.load("w"))?.nextItemId).toBe(1);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it("JSON.stringify of the store names it only", () => {
    expect(JSON.stringify({ store: new FileWorldStore("/some/where") })).toBe('{"store":"[FileWorldStore /some/where]"}');
  });
});

describe("RedisWorldStore", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it("world keys get a TTL (default 30 days), refreshed on every save; the previous generation is kept", async () => {
    const store = new RedisWorldStore(redis.url);
    try {
      await store.save("ttl", snap(1));
      const ttl = await client.ttl("mmo:world:ttl");
      expect(ttl).toBeGreaterThan(30 * 86400 - 60);
      expect(ttl).toBeLessThanOrEqual(30 * 86400);
      await client.expire("mmo:world:ttl", 100);
      await store.save("ttl", snap(2));
      expect(await client.ttl("mmo:world:ttl")).toBeGreaterThan(30 * 86400 - 60);
      expect(await client.ttl("mmo:world:ttl:prev")).toBeGreaterThan(30 * 86400 - 60);
      expect(JSON.parse((await client.get("mmo:world:ttl:prev"))!).nextItemId).toBe(1);
      expect((await store.load("ttl"))?.nextItemId).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("the TTL is a constructor option", async () => {
    const store = new RedisWorldStore(redis.url, { ttlSeconds: 120 });
    try {
      await store.save("short", snap(1));
      const ttl = await client.ttl("mmo:world:short");
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    } finally {
      await store.close();
    }
  });

  it("a corrupt value is logged, moved aside, and the previous generation returned; never a throw", async () => {
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const store = new RedisWorldStore(redis.url);
    try {
      await store.save("bad", snap(1));
      await store.save("bad", snap(2));
      await client.set("mmo:world:bad", "{ truncat");
      expect((await store.load("bad"))?.nextItemId).toBe(1);
      expect(errors).toHaveBeenCalledTimes(1);
      const line = String(errors.mock.calls[0].join(" "));
      expect(line).toContain('"bad"');
      expect(line).toContain("mmo:world:bad");
      const aside = await client.keys("mmo:world:bad:corrupt:*");
      expect(aside).toHaveLength(1);
      expect(await client.get(aside[0])).toBe("{ truncat");
      expect(await client.ttl(aside[0])).toBeGreaterThan(0);

      // Both damaged: a new world.
      await client.set("mmo:world:bad", "");
      await client.set("mmo:world:bad:prev", "[]");
      expect(await store.load("bad")).toBeUndefined();
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      await store.close();
    }
  });

  it("JSON.stringify and the store's own properties do not reveal the Redis URL (it may hold a password)", async () => {
    const store = new RedisWorldStore(redis.url);
    try {
      expect(JSON.stringify({ store })).toBe('{"store":"[RedisWorldStore]"}');
      expect(Object.values(store)).toEqual([]);
      expect(inspect(store)).not.toContain(String(redis.port));
    } finally {
      await store.close();
    }
  });
});
