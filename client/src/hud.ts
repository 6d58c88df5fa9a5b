import type { ConnectionStatus } from "./net";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface HudStats {
  x: number;
  y: number;
  playersInView: number;
  userCount: number;
  itemsInView: number;
  score: string;
  pingMs: number;
  world: string;
  /** The region room of a split world the player is in ("": the entry region, or an unsplit world). */
  region?: string;
}

const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  disconnected: "disconnected",
};

/** The DOM layer over the canvas: status line, stats, chat log and input, and the error overlay. */
export class Hud {
  private readonly status = $<HTMLDivElement>("hud-status");
  private readonly stats = $<HTMLDivElement>("hud-stats");
  private readonly chat = $<HTMLDivElement>("chat");
  private readonly chatLog = $<HTMLDivElement>("chat-log");
  private readonly chatInput = $<HTMLInputElement>("chat-input");
  private readonly overlay = $<HTMLDivElement>("overlay");
  readonly chatLines: string[] = [];

  constructor(
    private readonly onChat: (text: string) => void,
    onRetry: () => void,
    private readonly onChatOpenChange: (open: boolean) => void,
  ) {
    $("overlay-retry").addEventListener("click", onRetry);
    $("overlay-new-guest").addEventListener("click", () => this.newGuestListener?.());
    this.chatInput.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") {
        const text = this.chatInput.value.trim();
        if (text) this.onChat(text);
        this.closeChat();
      } else if (e.key === "Escape") {
        this.closeChat();
      }
    });
    window.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !this.isChatOpen()) {
        e.preventDefault();
        this.openChat();
      }
    });
  }

  private newGuestListener?: () => void;

  /** What the overlay's "Play as a new guest" button does. */
  onNewGuest(listener: () => void): void {
    this.newGuestListener = listener;
  }

  isChatOpen(): boolean {
    return this.chat.classList.contains("open");
  }

  openChat(): void {
    this.chat.classList.add("open");
    this.chatInput.value = "";
    this.chatInput.focus();
    this.onChatOpenChange(true);
  }

  closeChat(): void {
    this.chat.classList.remove("open");
    this.chatInput.blur();
    this.onChatOpenChange(false);
  }

  addChatLine(name: string, text: string): void {
    this.chatLines.push(`${name}: ${text}`);
    const line = document.createElement("div");
    line.className = "line";
    const who = document.createElement("b");
    who.textContent = `${name}: `;
    line.append(who, document.createTextNode(text));
    this.chatLog.append(line);
    while (this.chatLog.childElementCount > 8) this.chatLog.firstElementChild?.remove();
  }

  setStatus(status: ConnectionStatus, detail: string): void {
    this.status.className = `status-${status}`;
    this.status.textContent = detail ? `${STATUS_TEXT[status]} (${detail})` : STATUS_TEXT[status];
  }

  setStats(s: HudStats): void {
    this.stats.textContent =
      `world ${s.world}${s.region ? ` (region ${s.region})` : ""}   pos ${Math.round(s.x)}, ${Math.round(s.y)}\n` +
      `players in view ${s.playersInView} / ${s.userCount} in world\n` +
      `items in view ${s.itemsInView}   score ${s.score}   ping ${s.pingMs < 0 ? "–" : `${s.pingMs} ms`}`;
  }

  /** `offerNewGuest`: the refusal was "this identity is already playing" (a button plays as a new guest). */
  showOverlay(title: string, text: string, offerNewGuest = false): void {
    $("overlay-title").textContent = title;
    $("overlay-text").textContent = text;
    $("overlay-new-guest").hidden = !offerNewGuest;
    this.overlay.hidden = false;
  }

  hideOverlay(): void {
    this.overlay.hidden = true;
  }
}
