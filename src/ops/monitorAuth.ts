import { randomBytes } from "node:crypto";

/** Credentials for `/monitor`: the configured ones, or a password generated now. */
export interface MonitorCredentials {
  user: string;
  password: string;
  generated: boolean;
}

/** `password` set: those credentials; unset: a random password, printed once at start. */
export function monitorCredentials(user: string, password?: string): MonitorCredentials {
  if (password) return { user, password, generated: false };
  return { user, password: randomBytes(12).toString("base64url"), generated: true };
}
