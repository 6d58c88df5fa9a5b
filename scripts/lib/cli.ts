import { parseArgs } from "node:util";

/**
 * The command line of a tool: `--name value` numbers and `--flag` switches, parsed by Node's
 * own `util.parseArgs` (an unknown option is an error that names it).
 */
export function cliOptions<N extends string, F extends string>(
  argv: string[],
  spec: { numbers: Record<N, number>; flags?: readonly F[] },
): Record<N, number> & Record<F, boolean> & { given: Set<string> } {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const name of Object.keys(spec.numbers)) options[name] = { type: "string" };
  for (const name of spec.flags ?? []) options[name] = { type: "boolean" };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const out: Record<string, unknown> = { given: new Set(Object.keys(values)) };
  for (const [name, fallback] of Object.entries(spec.numbers) as [string, number][]) {
    const raw = values[name] as string | undefined;
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${raw}"`);
    out[name] = n;
  }
  for (const name of spec.flags ?? []) out[name] = values[name] === true;
  return out as Record<N, number> & Record<F, boolean> & { given: Set<string> };
}
