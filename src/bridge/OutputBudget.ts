/**
 * Per-second budgets for a backend's output: one for broadcasts and one per recipient for
 * private (`_to`) lines. A flood aimed at everyone, or at one client, uses up only its own
 * budget: the other players' private lines still get through.
 */
export class OutputBudget {
  private windowStart = 0;
  private broadcasts = 0;
  private readonly privates = new Map<number, number>();
  dropped = 0;

  constructor(
    private readonly broadcastPerSecond: number,
    private readonly privatePerSecond: number,
  ) {}

  /** True when a line to `to` (undefined: everyone) may go out now. */
  allow(to: number | undefined, now = Date.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.broadcasts = 0;
      this.privates.clear();
    }
    if (to === undefined) {
      if (this.broadcasts >= this.broadcastPerSecond) return this.drop();
      this.broadcasts++;
      return true;
    }
    const used = this.privates.get(to) ?? 0;
    if (used >= this.privatePerSecond) return this.drop();
    this.privates.set(to, used + 1);
    return true;
  }

  private drop(): false {
    this.dropped++;
    return false;
  }
}

/** Per-client message and byte rates (a client over either gets its message refused). */
export class ClientRate {
  private windowStart = 0;
  private messages = 0;
  private bytes = 0;

  constructor(
    private readonly messagesPerSecond: number,
    private readonly bytesPerSecond: number,
  ) {}

  allow(bytes: number, now = Date.now()): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.messages = 0;
      this.bytes = 0;
    }
    this.messages++;
    this.bytes += bytes;
    return this.messages <= this.messagesPerSecond && this.bytes <= this.bytesPerSecond;
  }
}
