import type { Room as SDKRoom } from "@colyseus/sdk";
import type { ColyseusTestServer } from "@colyseus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanName, nameSkeleton, nameSkeletons, uniqueName } from "../src/framework/names";
import { NAME_MAX_LENGTH } from "../src/shared/protocol";
import type { MMOState } from "../src/shared/schema";
import { bootMMO, roomOf } from "./helpers/server";

/** A `taken` for uniqueName: the skeletons of names already in use. */
function takenBy(...names: string[]): (skeleton: string) => boolean {
  const skeletons = new Set(names.flatMap(nameSkeletons));
  return (skeleton) => skeletons.has(skeleton);
}

const LONE_SURROGATE = /\p{Cs}/u;

describe("cleanName", () => {
  it("applies NFKC: fullwidth and styled letters become plain ones", () => {
    expect(cleanName("ｆｕｌｌ")).toBe("full");
    expect(cleanName("𝐀𝐝𝐚")).toBe("Ada");
    expect(cleanName("ﬁne")).toBe("fine");
  });

  it("strips controls, zero-width and bidi characters, separators and other invisibles", () => {
    expect(cleanName("\u202eadA")).toBe("adA");
    expect(cleanName("Ada\u200b")).toBe("Ada");
    expect(cleanName("Ada\u0085")).toBe("Ada");
    expect(cleanName("\u2066A\u200cd\u200da\u2069\u200e\u200f\ufeff\u2060")).toBe("Ada");
    expect(cleanName("A\u00add\u034fa\u180e\u3164")).toBe("Ada");
    expect(cleanName("Ann\u2028\u2029\u0000\u007f\u001b")).toBe("Ann");
    expect(cleanName("Ada\ufe0f\udb40\udc41")).toBe("Ada");
  });

  it("collapses whitespace runs to one space and trims", () => {
    expect(cleanName("  Ann \u00a0\u3000 Lee  ")).toBe("Ann Lee");
    expect(cleanName("Ann \u200b Lee")).toBe("Ann Lee");
  });

  it("returns an empty string for nothing visible", () => {
    expect(cleanName(undefined)).toBe("");
    expect(cleanName("")).toBe("");
    expect(cleanName(" \u200b\u202e\u2066\u2069\ufeff\u2800\t ")).toBe("");
  });

  it("keeps other scripts, accents and emoji (emoji ZWJ sequences and variation selectors too)", () => {
    for (const name of ["Łukasz", "山田", "Zoë", "José", "Дмитрий", "محمد", "😀 Bob", "👩‍💻", "❤️", "👍🏽"]) {
      expect(cleanName(name)).toBe(name.normalize("NFKC"));
    }
  });

  it("cuts to NAME_MAX_LENGTH without splitting a surrogate pair", () => {
    expect(cleanName("x".repeat(100))).toBe("x".repeat(NAME_MAX_LENGTH));
    const cut = cleanName(`${"a".repeat(NAME_MAX_LENGTH - 1)}😀`);
    expect(cut).toBe("a".repeat(NAME_MAX_LENGTH - 1));
    expect(LONE_SURROGATE.test(cut)).toBe(false);
    expect(cleanName(`${"a".repeat(NAME_MAX_LENGTH - 2)}😀`)).toBe(`${"a".repeat(NAME_MAX_LENGTH - 2)}😀`);
  });
});

describe("nameSkeleton", () => {
  it("maps look-alikes and case variants to one skeleton", () => {
    const ada = nameSkeleton("Ada");
    for (const name of ["\u0410da", "AdA", "ada", "ADA", "𝓐𝓭𝓪", "Ada\u200b", "\u202eAda"]) expect(nameSkeleton(name), name).toBe(ada);
    expect(nameSkeleton("0scar")).toBe(nameSkeleton("Oscar"));
    expect(nameSkeleton("\u041d\u0410\u0405\u041d")).toBe(nameSkeleton("HASH"));
  });

  it("keeps different names apart", () => {
    expect(nameSkeleton("Ada")).not.toBe(nameSkeleton("Ana"));
    expect(nameSkeleton("山田")).not.toBe(nameSkeleton("田山"));
    expect(nameSkeleton("Дана")).not.toBe(nameSkeleton("Лана"));
  });
});

describe("uniqueName", () => {
  it("keeps a free name, renames a look-alike or case variant to `name (2)`, `name (3)`...", () => {
    expect(uniqueName("Ada", takenBy())).toBe("Ada");
    expect(uniqueName("Ada", takenBy("Bob"))).toBe("Ada");
    expect(uniqueName("\u0410da", takenBy("Ada"))).toBe("\u0410da (2)");
    expect(uniqueName("ada", takenBy("Ada", "Ada (2)"))).toBe("ada (3)");
    expect(uniqueName("ian", takenBy("Ian"))).toBe("ian (2)");
    expect(uniqueName("Ian", takenBy("ian"))).toBe("Ian (2)");
    expect(uniqueName("\u0422\u041e\u041c", takenBy("TOM"))).toBe("\u0422\u041e\u041c (2)");
    expect(uniqueName("TOM", takenBy("Tom"))).toBe("TOM (2)");
  });

  it("cuts the base so the result fits NAME_MAX_LENGTH", () => {
    const long = "x".repeat(NAME_MAX_LENGTH);
    const second = uniqueName(long, takenBy(long));
    expect(second).toBe(`${"x".repeat(NAME_MAX_LENGTH - 4)} (2)`);
    expect(uniqueName(long, takenBy(long, second))).toBe(`${"x".repeat(NAME_MAX_LENGTH - 4)} (3)`);
    const emoji = `${"a".repeat(NAME_MAX_LENGTH - 5)}😀b`;
    const renamed = uniqueName(emoji, takenBy(emoji));
    expect(renamed).toBe(`${"a".repeat(NAME_MAX_LENGTH - 5)} (2)`);
    expect(renamed.length).toBeLessThanOrEqual(NAME_MAX_LENGTH);
    expect(LONE_SURROGATE.test(renamed)).toBe(false);
  });
});

describe("names in a room", () => {
  let colyseus: ColyseusTestServer;
  const rooms: SDKRoom<MMOState>[] = [];

  beforeAll(async () => {
    colyseus = await bootMMO({ drainSeconds: 0 });
  });
  afterAll(async () => {
    await Promise.all(rooms.map((room) => room.leave()));
    await colyseus.shutdown();
  });

  async function join(name: string): Promise<{ room: SDKRoom<MMOState>; name: string }> {
    const room = await colyseus.sdk.joinOrCreate<MMOState>("mmo", { world: "names", name });
    rooms.push(room);
    return { room, name: roomOf(colyseus, room).getSession(room.sessionId)!.player.name };
  }

  it("never lets a look-alike of `Ada` in next to `Ada` (homoglyph, zero-width, bidi override, NEL)", async () => {
    const ada = await join("Ada");
    expect(ada.name).toBe("Ada");
    const spoofs = ["\u0410da", "Ada\u200b", "\u202eadA", "Ada\u0085"];
    const names = [];
    for (const spoof of spoofs) names.push((await join(spoof)).name);
    expect(names).toEqual(["\u0410da (2)", "Ada (3)", "adA (4)", "Ada (5)"]);
    const all = [ada.name, ...names];
    expect(new Set(all.map((n) => nameSkeleton(n))).size).toBe(all.length);
    for (const name of all) expect(name).toBe(cleanName(name));
  });

  it("names a user whose name is only invisible characters `guest-xxxx`", async () => {
    const { room, name } = await join("\u200b\u202e\u2066\ufeff\u2069");
    expect(name).toBe(`guest-${room.sessionId.slice(0, 4)}`);
  });

  it("keeps emoji and other scripts", async () => {
    for (const name of ["Łukasz", "山田", "😀 Bob"]) expect((await join(name)).name).toBe(name);
  });
});
