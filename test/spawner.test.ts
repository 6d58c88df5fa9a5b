import { describe, expect, it } from "vitest";
import { type SpawnedProcess, Spawner } from "../src/bridge/Spawner";
import { alive, until } from "./helpers/server";

// Backends are started by a helper process (src/bridge/Spawner.ts): a spawn from the server
// would block its event loop until the child has exec'd. Their stdio still reaches the server
// directly, and the server copes with the helper's death.
const started = (child: SpawnedProcess) =>
  new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
const exited = (child: SpawnedProcess) => new Promise<[number | null, string | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal])));
const env = { PATH: process.env.PATH ?? "" };

describe("Spawner", () => {
  it("runs a backend whose stdin, stdout and stderr are the server's to use, and reports its exit code", async () => {
    const spawner = new Spawner();
    const child = spawner.spawn("sh", ["-c", "read line; echo \"got $line\"; echo oops >&2; exit 3"], { env, niceness: 10 });
    await started(child);
    expect(child.pid).toBeGreaterThan(0);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.stderr!.on("data", (d: Buffer) => (err += d));
    const exit = exited(child);
    child.stdin!.write("hello\n");
    expect(await exit).toEqual([3, null]);
    await until(() => out === "got hello\n" && err === "oops\n", "the output arrives");
  });

  it("a command that does not exist is an error with its code, not a crash", async () => {
    const child = new Spawner().spawn("/nonexistent/backend", [], { env, niceness: 10 });
    await expect(started(child)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("the spawner's death ends no backend: a running one still reports its end, and the next start brings a new spawner", async () => {
    const spawner = new Spawner();
    const cat = spawner.spawn("cat", [], { env, niceness: 10 });
    await started(cat);
    const helper = spawner.helperPid!;
    process.kill(helper, "SIGKILL");
    await until(() => !alive(helper), "the spawner is gone");
    let echoed = "";
    cat.stdout!.on("data", (d: Buffer) => (echoed += d));
    cat.stdin!.write("still here\n");
    await until(() => echoed === "still here\n", "the backend still answers");
    // It ends by itself (not by its stdin closing): its end still reaches the server.
    const exit = exited(cat);
    process.kill(cat.pid!, "SIGTERM");
    await exit;
    const next = spawner.spawn("cat", [], { env, niceness: 10 });
    await started(next);
    expect(spawner.helperPid).not.toBe(helper);
    next.stdin!.end();
    await exited(next);
  });
});
