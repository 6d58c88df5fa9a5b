import { randomBytes } from "node:crypto";

/** Credentials for `/monitor`: from MONITOR_USER / MONITOR_PASSWORD, or a password generated now. */
export interface MonitorCredentials {
  user: string;
  password: string;
  generated: boolean;
}

export function monitorCredentials(env: NodeJS.ProcessEnv = process.env): MonitorCredentials {
  const user = env.MONITOR_USER || "admin";
  if (env.MONITOR_PASSWORD) return { user, password: env.MONITOR_PASSWORD, generated: false };
  return { user, password: randomBytes(12).toString("base64url"), generated: true };
}
