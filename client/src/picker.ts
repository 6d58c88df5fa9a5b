import { Client } from "@colyseus/sdk";
import { type DeclaredWorld, LOBBY_ROOM, type LobbyRoomListing, type LobbyWorldsMessage } from "@shared/lobby";

/** One line of the world picker. */
export interface PickerRow {
  world: string;
  title: string;
  users: number;
  maxUsers: number;
  /** A room of it is running (its counts are live). */
  live: boolean;
  /** Live region rooms of a world split into regions (1 for a world that is one room). */
  regions: number;
}

/**
 * The picker's list: the declared worlds in the table's order (0 users until a room of one is
 * live), then the live worlds the table does not declare, by name. A live listing's title and
 * counts win over the declaration. A world split into regions is one row: its region rooms'
 * users summed, and how many regions are live.
 */
export function pickerRows(declared: readonly DeclaredWorld[], live: Iterable<LobbyRoomListing>): PickerRow[] {
  const rows = new Map<string, PickerRow>();
  for (const d of declared) rows.set(d.world, { world: d.world, title: d.title, users: 0, maxUsers: d.maxUsers, live: false, regions: 0 });
  const extra = new Map<string, PickerRow>();
  for (const room of live) {
    const m = room.metadata;
    if (!m?.world) continue;
    const known = rows.get(m.world) ?? extra.get(m.world);
    const users = m.users ?? 0;
    if (known?.live) {
      known.users += users;
      known.regions++;
      continue;
    }
    const row: PickerRow = { world: m.world, title: m.title || known?.title || m.world, users, maxUsers: m.maxUsers ?? known?.maxUsers ?? 0, live: true, regions: 1 };
    if (rows.has(m.world)) rows.set(m.world, row);
    else extra.set(m.world, row);
  }
  return [...rows.values(), ...[...extra.values()].sort((a, b) => a.world.localeCompare(b.world))];
}

/** The page's URL with `world` set, everything else (`name`, `x`, `y`...) kept. */
export function worldUrl(world: string, search: string = location.search): string {
  const q = new URLSearchParams(search);
  q.set("world", world);
  return `?${q}`;
}

const WORLD_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * The world picker, shown when the URL names no world: the lobby's worlds with their titles
 * and "N / max players", kept live while it is open. Choosing one loads the page for it
 * (`?world=...`, the other parameters kept), which is also the link to share.
 */
export async function openPicker(endpoint: string, choose: (world: string) => void = (w) => location.assign(worldUrl(w))): Promise<void> {
  const box = $<HTMLDivElement>("picker");
  const list = $<HTMLUListElement>("picker-list");
  const status = $<HTMLParagraphElement>("picker-status");
  const other = $<HTMLFormElement>("picker-other");
  const otherName = $<HTMLInputElement>("picker-other-name");
  box.hidden = false;

  let declared: DeclaredWorld[] = [];
  const live = new Map<string, LobbyRoomListing>();
  const render = () => {
    list.replaceChildren(
      ...pickerRows(declared, live.values()).map((row) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "picker-world";
        button.dataset.world = row.world;
        const title = document.createElement("span");
        title.className = "picker-title";
        title.textContent = row.title;
        const count = document.createElement("span");
        count.className = "picker-count";
        count.textContent = row.regions > 1 ? `${row.users} players in ${row.regions} regions` : `${row.users} / ${row.maxUsers} players`;
        button.append(title, count);
        button.addEventListener("click", () => choose(row.world));
        li.append(button);
        return li;
      }),
    );
  };
  other.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = otherName.value.trim();
    if (WORLD_NAME.test(name)) choose(name);
    else otherName.setCustomValidity("letters, digits, _ and - (up to 64)");
  });
  otherName.addEventListener("input", () => otherName.setCustomValidity(""));

  try {
    const lobby = await new Client(endpoint).joinOrCreate(LOBBY_ROOM);
    lobby.onMessage("rooms", (rooms: LobbyRoomListing[]) => {
      live.clear();
      for (const r of rooms) live.set(r.roomId, r);
      render();
    });
    lobby.onMessage("+", ([roomId, room]: [string, LobbyRoomListing]) => {
      live.set(roomId, room);
      render();
    });
    lobby.onMessage("-", (roomId: string) => {
      live.delete(roomId);
      render();
    });
    lobby.onMessage("worlds", (m: LobbyWorldsMessage) => {
      declared = m.worlds;
      other.hidden = m.unknownWorlds !== "default";
      render();
    });
    lobby.onLeave(() => (status.textContent = "the lobby closed: reload the page to see the worlds again"));
    status.textContent = "";
  } catch (e) {
    status.textContent = `cannot reach the lobby (${(e as Error).message || e}): you can still enter a world by name`;
    other.hidden = false;
  }
}
