import type { Readable } from "node:stream";

/** Calls `onLine` with each complete line of `stream` (without its newline). */
export function onLines(stream: Readable | null | undefined, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = "";
  stream.on("data", (d: Buffer | string) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}
