import { type RegisteredHandler, defineRoom } from "@colyseus/core";
import { type ColyseusTestServer, boot } from "@colyseus/testing";
import config from "@colyseus/tools";
import type { Room as SDKRoom } from "@colyseus/sdk";
import { MMORoom, type MMORoomOptions } from "../../src/framework/MMORoom";
import type { MMOSettingsInput } from "../../src/framework/settings";
import type { MMOState } from "../../src/shared/schema";
import { joinWorld } from "../../src/shared/sdk";

/** Boots an in-process test server (`@colyseus/testing`) with these room types. */
export async function bootRooms(rooms: Record<string, RegisteredHandler>): Promise<ColyseusTestServer> {
  return boot(config({ displayLogs: false, rooms }));
}

/**
 * Boots a server with one `mmo` room type (one room per world) using `settings` on top of the
 * defaults (the environment is not read), and the room's other options (a game's, persistence).
 */
export async function bootMMO(
  settings: MMOSettingsInput,
  roomClass: typeof MMORoom = MMORoom,
  options: Omit<MMORoomOptions, "settings" | "world"> & Record<string, unknown> = {},
): Promise<ColyseusTestServer> {
  return bootRooms({ mmo: defineRoom(roomClass, { ...options, settings }).filterBy(["world", "region"]) });
}

/** Resolves when `predicate` holds, polling; rejects after `ms` with `what` in the message. */
export async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The next message of `type` on a client, or a rejection after `ms`. */
export function nextMessage<T = unknown>(room: SDKRoom, type: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${type}" message within ${ms} ms`));
    }, ms);
    const off = room.onMessage(type, (message: T) => {
      clearTimeout(timer);
      off();
      resolve(message);
    });
  });
}

/** Waits for `n` patches on a client, each with a timeout (the SDK's has none). */
export async function patches(room: SDKRoom<MMOState>, n = 1, ms = 3000): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no patch within ${ms} ms`)), ms);
      const done = () => {
        clearTimeout(timer);
        room.onStateChange.remove(done);
        resolve();
      };
      room.onStateChange(done);
    });
  }
}

/** Ids in a decoded map, sorted. */
export function ids(map: { keys(): IterableIterator<string> } | undefined): string[] {
  return map ? [...map.keys()].sort() : [];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server-side room instance a client is in. */
export function roomOf(colyseus: ColyseusTestServer, c: SDKRoom): MMORoom {
  return colyseus.getRoomById(c.roomId) as unknown as MMORoom;
}

/** Sends a position and waits until the server has applied it. */
export async function placeAt(colyseus: ColyseusTestServer, c: SDKRoom, x: number, y: number): Promise<void> {
  c.send("position", { x, y });
  const server = () => roomOf(colyseus, c).state.players.get(c.sessionId);
  await until(() => server()?.x === x && server()?.y === y, `placed at ${x},${y}`);
}

/** Joins a world with a guest identity; on a first join (no token) waits for the token the server sends. */
export async function enterWithIdentity(
  colyseus: ColyseusTestServer,
  world: string,
  name: string,
  token?: string,
): Promise<{ room: SDKRoom<MMOState>; token: string }> {
  const room = await joinWorld(colyseus.sdk, { world, name, token });
  if (token) return { room, token };
  // Registered right after the join resolves, before the next frame is processed.
  const issued = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no identity message")), 3000);
    room.onMessage("identity", (m: { token: string }) => {
      clearTimeout(timer);
      resolve(m.token);
    });
  });
  return { room, token: issued };
}

/** Every message a client gets, by type (registered as a catch-all handler). */
export function inbox(room: SDKRoom): Map<string, unknown[]> {
  const got = new Map<string, unknown[]>();
  room.onMessage("*", (type: string | number, message: unknown) => {
    const list = got.get(String(type)) ?? [];
    list.push(message);
    got.set(String(type), list);
  });
  return got;
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
