import { describe, expect, it } from "vitest";
import { pickerRows, worldUrl } from "../client/src/picker";

// The browser client's world picker, its pure part: which rows, in which order, with which counts.
describe("pickerRows", () => {
  const declared = [
    { world: "default", title: "The Meadow", maxUsers: 5000 },
    { world: "arena", title: "The Arena", maxUsers: 20 },
  ];
  it("declared worlds first (0 users until live), live counts over them, undeclared live worlds after, by name", () => {
    const rows = pickerRows(declared, [
      { roomId: "r2", name: "mmo", clients: 1, metadata: { world: "zeta", title: "zeta", users: 1, limbo: 0, maxUsers: 5000 } },
      { roomId: "r1", name: "mmo", clients: 3, metadata: { world: "arena", title: "The Arena", users: 3, limbo: 1, maxUsers: 20 } },
      { roomId: "r3", name: "mmo", clients: 1, metadata: { world: "alpha", users: 1, maxUsers: 50 } },
      { roomId: "r4", name: "mmo", clients: 0 }, // no metadata: not a world
    ]);
    expect(rows).toEqual([
      { world: "default", title: "The Meadow", users: 0, maxUsers: 5000, live: false, regions: 0 },
      { world: "arena", title: "The Arena", users: 3, maxUsers: 20, live: true, regions: 1 },
      { world: "alpha", title: "alpha", users: 1, maxUsers: 50, live: true, regions: 1 },
      { world: "zeta", title: "zeta", users: 1, maxUsers: 5000, live: true, regions: 1 },
    ]);
  });

  it("a world split into regions is one row: its regions' users summed, and how many regions are live", () => {
    const rows = pickerRows(declared, [
      { roomId: "a", name: "mmo", clients: 4, metadata: { world: "default", region: "", title: "The Meadow", users: 4, limbo: 0, maxUsers: 5000 } },
      { roomId: "b", name: "mmo", clients: 7, metadata: { world: "default", region: "1_0", title: "The Meadow", users: 7, limbo: 0, maxUsers: 5000 } },
      { roomId: "c", name: "mmo", clients: 2, metadata: { world: "split", region: "1_0", users: 2, maxUsers: 10 } },
      { roomId: "d", name: "mmo", clients: 1, metadata: { world: "split", region: "", users: 1, maxUsers: 10 } },
    ]);
    expect(rows).toEqual([
      { world: "default", title: "The Meadow", users: 11, maxUsers: 5000, live: true, regions: 2 },
      { world: "arena", title: "The Arena", users: 0, maxUsers: 20, live: false, regions: 0 },
      { world: "split", title: "split", users: 3, maxUsers: 10, live: true, regions: 2 },
    ]);
  });

  it("the chosen world's URL keeps the page's other parameters", () => {
    expect(worldUrl("arena", "?name=Ada&x=10&y=20")).toBe("?name=Ada&x=10&y=20&world=arena");
    expect(worldUrl("arena", "?world=&name=Ada")).toBe("?world=arena&name=Ada");
  });
});
