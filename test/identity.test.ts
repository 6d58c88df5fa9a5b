import * as fs from "node:fs";
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { IdentitySigner, identitySecret } from "../src/framework/persistence/identity";

const freshDir = () => mkdtempSync(join(tmpdir(), "mmo-identity-"));
const SECRET = "a-configured-secret-of-at-least-32-bytes!";

describe("identitySecret", () => {
  it("generates a key file once (mode 0600, 32 random bytes); two calls return the same key", () => {
    const dir = join(freshDir(), "data");
    const a = identitySecret(dir);
    const file = join(dir, "identity.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, "utf8").trim(), "base64url")).toEqual(a);
    expect(a.length).toBe(32);
    const b = identitySecret(dir);
    expect(b).toEqual(a);
    expect(identitySecret(freshDir())).not.toEqual(a);
    expect(readdirSync(dir)).toEqual(["identity.key"]);
  });

  it("refuses an empty key file (left by a full disk) with a message naming the fix", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "identity.key"), "");
    expect(() => identitySecret(dir)).toThrow(/identity\.key.*(delete it|IDENTITY_SECRET)/s);
    expect(readFileSync(join(dir, "identity.key"), "utf8")).toBe(""); // left for the operator
  });

  it("refuses a garbled or short key file", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "identity.key"), "not base64 at all!!\n");
    expect(() => identitySecret(dir)).toThrow(/delete it or set IDENTITY_SECRET/);
    writeFileSync(join(dir, "identity.key"), Buffer.alloc(10, 1).toString("base64url"));
    expect(() => identitySecret(dir)).toThrow(/at least 32 bytes/);
  });

  it("refuses a configured IDENTITY_SECRET shorter than 32 bytes; accepts a long one as is", () => {
    expect(() => identitySecret(freshDir(), "0123456789")).toThrow("IDENTITY_SECRET must be at least 32 bytes");
    expect(() => identitySecret(freshDir(), "x".repeat(31))).toThrow("IDENTITY_SECRET must be at least 32 bytes");
    const dir = freshDir();
    expect(identitySecret(dir, SECRET)).toEqual(Buffer.from(SECRET));
    expect(readdirSync(dir)).toEqual([]); // no key file when configured
  });

  it("a write that fails (full disk) leaves neither a key file nor a temporary file; the next start generates a good key", () => {
    const dir = freshDir();
    const enospc = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    expect(() => identitySecret(dir, undefined, { fs: { ...fs, writeSync: enospc as typeof fs.writeSync } })).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
    expect(() => identitySecret(dir, undefined, { fs: { ...fs, fsyncSync: enospc as typeof fs.fsyncSync } })).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
    expect(identitySecret(dir).length).toBe(32);
  });
});

describe("IdentitySigner keeps its secret out of reach", () => {
  const secret = Buffer.from(SECRET);
  const signer = new IdentitySigner(secret);
  const secretForms = [SECRET, secret.toString("hex"), secret.toString("base64"), secret.toString("base64url"), JSON.stringify(secret)];
  const leaks = (text: string) => secretForms.filter((form) => text.includes(form) || text.includes(JSON.stringify(form)));

  it("JSON.stringify, property enumeration and util.inspect do not show the secret", () => {
    expect(JSON.stringify(signer)).toBe('"[IdentitySigner]"');
    expect(JSON.stringify({ persistence: { identity: signer } })).toBe('{"persistence":{"identity":"[IdentitySigner]"}}');
    expect(Object.values(signer)).toEqual([]);
    expect(Object.getOwnPropertyNames(signer)).toEqual([]);
    expect(Reflect.ownKeys(signer)).toEqual([]);
    expect(Object.entries(signer)).toEqual([]);
    expect(inspect(signer)).toBe("[IdentitySigner]");
    expect(leaks(inspect(signer, { showHidden: true, depth: 10 }))).toEqual([]);
    expect(leaks(inspect({ a: { b: signer } }, { showHidden: true, depth: 10 }))).toEqual([]);
    expect(leaks(JSON.stringify({ ...signer }))).toEqual([]);
    // The signer does not keep the caller's buffer: changing it changes nothing.
    const mine = Buffer.from(SECRET);
    const other = new IdentitySigner(mine);
    const { token } = other.issue();
    mine.fill(0);
    expect(other.verify(token)).toBeDefined();
  });

  it("tokens still verify; a foreign signer's do not", () => {
    const { id, token } = signer.issue();
    expect(signer.verify(token)).toBe(id);
    expect(new IdentitySigner(Buffer.from(SECRET)).verify(token)).toBe(id);
    expect(new IdentitySigner(Buffer.from("b".repeat(32))).verify(token)).toBeUndefined();
    const sig = token.split(".")[1];
    expect(signer.verify(`${id}.${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`)).toBeUndefined();
  });

  it("refuses an empty secret", () => {
    expect(() => new IdentitySigner(Buffer.alloc(0))).toThrow(/empty/);
  });
});
