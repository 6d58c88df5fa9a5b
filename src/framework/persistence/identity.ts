import { type KeyObject, createHmac, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto";
import * as nodeFs from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";

/** Each signer's key, where no property enumeration, JSON.stringify or util.inspect of the signer reaches it. */
const keys = new WeakMap<IdentitySigner, KeyObject>();

/**
 * Guest identities: the server issues `<id>.<signature>` (HMAC-SHA256 of the id with a
 * server secret) on a first join; the client keeps it and sends it back as the `token`
 * join option. A token whose signature does not match is refused, so no one can claim
 * another player's id.
 *
 * The secret is not a property of the signer (a room's properties can be read through the
 * monitor's room calls, which serialise them): `JSON.stringify` and `util.inspect` show
 * `[IdentitySigner]`, and the signer has no own properties at all.
 */
export class IdentitySigner {
  constructor(secret: Buffer) {
    if (!Buffer.isBuffer(secret) || secret.length === 0) throw new Error("IdentitySigner: the secret is empty");
    // A KeyObject copy: the caller's buffer can change or be zeroed without effect.
    keys.set(this, createSecretKey(Buffer.from(secret)));
  }

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
    const key = keys.get(this);
    if (!key) throw new Error("IdentitySigner: not constructed");
    return createHmac("sha256", key).update(id).digest("base64url");
  }

  toJSON(): string {
    return "[IdentitySigner]";
  }

  [inspect.custom](): string {
    return "[IdentitySigner]";
  }
}

/** Shortest accepted signing secret, in bytes (HMAC-SHA256's block is 64; its output 32). */
export const MIN_SECRET_BYTES = 32;

/** The synchronous `node:fs` functions `identitySecret` uses (tests inject a full disk). */
export type IdentityFs = Pick<typeof nodeFs, "mkdirSync" | "readFileSync" | "openSync" | "writeSync" | "fsyncSync" | "closeSync" | "linkSync" | "renameSync" | "unlinkSync">;

/**
 * The signing secret: IDENTITY_SECRET (`configured`, at least 32 bytes), or a key generated
 * once and kept in `<dataDir>/identity.key` (32 random bytes, base64url, mode 0600). A
 * cluster must set IDENTITY_SECRET, the same on every process.
 *
 * The key file is written atomically (a temporary file, fsync'ed, then linked into place,
 * which never replaces a key another process made first); a full disk leaves no key file.
 * An empty, garbled or short key file is refused with an Error telling the operator what to do:
 * the server never signs with an empty key.
 */
export function identitySecret(dataDir: string, configured?: string, options: { fs?: Partial<IdentityFs> } = {}): Buffer {
  if (configured !== undefined) {
    const secret = Buffer.from(configured, "utf8");
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`IDENTITY_SECRET must be at least ${MIN_SECRET_BYTES} bytes (it has ${secret.length}); e.g. openssl rand -base64 32`);
    return secret;
  }
  const fs: IdentityFs = { ...nodeFs, ...options.fs };
  const file = join(dataDir, "identity.key");
  const existing = readKeyFile(fs, file);
  if (existing) return existing;

  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(MIN_SECRET_BYTES);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fd = fs.openSync(tmp, "wx", 0o600);
    try {
      const text = Buffer.from(secret.toString("base64url"));
      let written = 0;
      while (written < text.length) written += fs.writeSync(fd, text, written, text.length - written);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(tmp, file); // fails if another process wrote its key meanwhile
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return readKeyFile(fs, file) ?? secret;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
      fs.renameSync(tmp, file); // no hard links here
    }
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // renamed, or never created
    }
  }
  syncDir(dataDir);
  return secret;
}

/** The key in `file`, undefined if there is none; throws on an empty, garbled or short one. */
function readKeyFile(fs: IdentityFs, file: string): Buffer | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const fix = "delete it or set IDENTITY_SECRET (a new key gives returning guests new identities)";
  if (text === "") throw new Error(`the identity key file ${file} is empty (a full disk?): ${fix}`);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error(`the identity key file ${file} is garbled (not base64url): ${fix}`);
  const key = Buffer.from(text, "base64url");
  if (key.length < MIN_SECRET_BYTES) throw new Error(`the identity key file ${file} holds ${key.length} bytes, the key must be at least ${MIN_SECRET_BYTES} bytes: ${fix}`);
  return key;
}

/** Makes the new directory entry durable (best effort). */
function syncDir(dir: string): void {
  try {
    const fd = nodeFs.openSync(dir, "r");
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  } catch {
    // not supported here
  }
}
