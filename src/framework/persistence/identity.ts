import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Guest identities: the server issues `<id>.<signature>` (HMAC-SHA256 of the id with a
 * server secret) on a first join; the client keeps it and sends it back as the `token`
 * join option. A token whose signature does not match is refused, so no one can claim
 * another player's id.
 */
export class IdentitySigner {
  constructor(private readonly secret: Buffer) {}

  issue(): { id: string; token: string } {
    const id = randomBytes(12).toString("base64url");
    return { id, token: `${id}.${this.sign(id)}` };
  }

  /** The id in a valid token, or undefined. */
  verify(token: unknown): string | undefined {
    if (typeof token !== "string" || token.length > 200) return undefined;
    const [id, signature, extra] = token.split(".");
    if (!id || !signature || extra !== undefined || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) return undefined;
    const expected = Buffer.from(this.sign(id));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  private sign(id: string): string {
    return createHmac("sha256", this.secret).update(id).digest("base64url");
  }
}

/**
 * The signing secret: IDENTITY_SECRET, or one generated once and kept in the data directory
 * (a cluster must set IDENTITY_SECRET, the same on every process).
 */
export function identitySecret(dataDir: string, configured?: string): Buffer {
  if (configured) return Buffer.from(configured);
  const file = join(dataDir, "identity.key");
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString("base64url"), { mode: 0o600 });
  return secret;
}
