import { Command, InvalidArgumentError, Option } from "commander";
import { JSON_JOINMSG, JSON_LEAVEMSG, type ProcessRoomSettings } from "../settings";

/** What `scalesocket [OPTIONS] CMD [-- ARGS...]` asks for. */
export interface ScaleSocketOptions {
  host: string;
  port: number;
  staticdir?: string;
  api: boolean;
  metrics: boolean;
  oneshot: boolean;
  logJson: boolean;
  /** Only these room names (ScaleSocket's --rooms), or any. */
  rooms?: string[];
  /** At most this many rooms at once (--maxrooms). */
  maxrooms?: number;
  /** The process room's settings (command, framing, join/leave messages, cache, passenv...). */
  room: ProcessRoomSettings;
}

/** Flags ScaleSocket has that this command does not, and why (README "ScaleSocket compatibility"). */
const UNSUPPORTED: Record<string, string> = {
  tcp: "backends speak stdio here (TCP mode is not implemented)",
  tcpports: "TCP mode is not implemented",
  binary: "binary mode is not implemented: frames are text (JSON or lines)",
  delay: "only meaningful with --tcp",
};

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("a whole number > 0");
  return n;
}

function frameMode(value: string): "json" {
  if (value === "json") return "json";
  if (value === "gwsocket") throw new InvalidArgumentError("gwsocket framing is not supported (json is)");
  throw new InvalidArgumentError("json");
}

/** `[all|tagged:]SIZE` (ScaleSocket's --cache). */
export function parseCache(value: string): { type: "all" | "tagged"; size: number } {
  const m = /^(?:(all|tagged):)?(\d+)$/.exec(value);
  if (!m || Number(m[2]) <= 0) throw new InvalidArgumentError("[all|tagged:]SIZE, e.g. 64 or tagged:16");
  return { type: (m[1] as "all" | "tagged" | undefined) ?? "all", size: Number(m[2]) };
}

/** The command line, parsed with commander (ScaleSocket's own flag names and defaults). */
export function parseScaleSocketArgs(argv: string[]): ScaleSocketOptions {
  const program = new Command("scalesocket")
    .description("A websocket server that wraps a command: one process per room, on Colyseus")
    .argument("<CMD>", "Command to wrap")
    .argument("[ARGS...]", "Arguments to command")
    .option("--addr <ADDR>", "Interface to bind to", "0.0.0.0:9000")
    .option("--staticdir <DIR>", "Serve static files from directory over HTTP")
    .option("--json", "Enable JSON framing with default join and leave messages")
    .addOption(new Option("--frame [MODE]", "Enable framing and routing for all messages (json)").argParser(frameMode))
    .addOption(new Option("--clientframe <MODE>", "Enable framing and routing for client originated messages").argParser(frameMode))
    .addOption(new Option("--serverframe <MODE>", "Enable framing and routing for server originated messages").argParser(frameMode))
    .option("--joinmsg <MSG>", "Emit message to child on client connect (use #ID for id)")
    .option("--leavemsg <MSG>", "Emit message to child on client disconnect (use #ID for id)")
    .option("--passenv <LIST>", "List of envvars to pass to child", "PATH,DYLD_LIBRARY_PATH")
    .addOption(new Option("--cache <[TYPE:]SIZE>", "Cache server message history for room and replay it to new clients").argParser(parseCache))
    .option("--cachepersist", "Preserve server message history for room even after last client disconnects")
    .option("--rooms <LIST>", "Only serve these rooms (comma-separated)")
    .addOption(new Option("--maxrooms <N>", "At most this many rooms at once").argParser(positiveInt))
    .option("--api", "Expose room metadata API under /api/")
    .option("--metrics", "Expose OpenMetrics endpoint at /metrics")
    .option("--null", "Process output items are terminated by a null character")
    .option("--delimiters <DELIMITERS>", "Process output items are terminated by given characters")
    .option("--oneshot", "Serve only once")
    .addOption(new Option("--log <FMT>", "Log format").choices(["text", "json"]).default("text"))
    .option("--tcp", "(not supported)")
    .option("--tcpports <START:END>", "(not supported)")
    .option("-b, --binary", "(not supported)")
    .option("--delay <SECONDS>", "(not supported)")
    .allowExcessArguments(false)
    .exitOverride();
  program.parse(argv, { from: "user" });
  const o = program.opts<Record<string, unknown>>();
  for (const [flag, why] of Object.entries(UNSUPPORTED)) {
    if (o[flag] !== undefined) throw new Error(`--${flag} is not supported: ${why}`);
  }
  const [cmd, args] = program.processedArgs as [string, string[] | undefined];
  const addr = String(o.addr);
  const colon = addr.lastIndexOf(":");
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--addr must be HOST:PORT, got "${addr}"`);
  const framed = o.json === true || o.frame !== undefined;
  const json = (one: unknown) => (one === "json" || framed ? "json" : "none") as "json" | "none";
  return {
    host: addr.slice(0, colon) || "0.0.0.0",
    port,
    staticdir: o.staticdir as string | undefined,
    api: o.api === true,
    metrics: o.metrics === true,
    oneshot: o.oneshot === true,
    logJson: o.log === "json",
    rooms: typeof o.rooms === "string" ? o.rooms.split(",").map((r) => r.trim()).filter(Boolean) : undefined,
    maxrooms: o.maxrooms as number | undefined,
    room: {
      command: [cmd, ...(args ?? [])],
      clientframe: json(o.clientframe),
      serverframe: json(o.serverframe),
      joinmsg: (o.joinmsg as string | undefined) ?? (o.json ? JSON_JOINMSG : undefined),
      leavemsg: (o.leavemsg as string | undefined) ?? (o.json ? JSON_LEAVEMSG : undefined),
      passenv: String(o.passenv).split(",").map((v) => v.trim()).filter(Boolean),
      cache: o.cache as { type: "all" | "tagged"; size: number } | undefined,
      cachePersist: o.cachepersist === true,
      delimiters: o.null ? "\0" : typeof o.delimiters === "string" ? o.delimiters.replace(/\\n/g, "\n").replace(/\\0/g, "\0") : "\n",
      // ScaleSocket restarts nothing: a backend that exits ends its room.
      maxRestarts: 0,
    },
  };
}
