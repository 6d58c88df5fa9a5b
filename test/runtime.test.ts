import { expect, it } from "vitest";

it("runs on Node 22 or newer (the node@22 devDependency), as Colyseus 0.18 requires", () => {
  expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
});
