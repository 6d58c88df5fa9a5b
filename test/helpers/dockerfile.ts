import { readFileSync } from "node:fs";

/** One instruction of a Dockerfile: `COPY --from=build /app/dist dist` -> COPY, flags, args. */
export interface Instruction {
  name: string;
  flags: Record<string, string>;
  /** The arguments: JSON-array form parsed, shell form split on spaces (except RUN, CMD, HEALTHCHECK). */
  args: string[];
  /** The raw text after the name and flags, continuation lines joined. */
  text: string;
}

export interface Stage {
  /** `FROM image AS name`: the name, or its index as a string. */
  name: string;
  image: string;
  instructions: Instruction[];
}

/**
 * Just enough of the Dockerfile grammar for the tests that run a Dockerfile's steps without
 * Docker: comments, `\` continuations, `--flag=value`, the JSON (exec) form, stages.
 */
export function parseDockerfile(path: string): Stage[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const joined: string[] = [];
  let current = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    current += (current ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      joined.push(current);
      current = "";
    }
  }
  const stages: Stage[] = [];
  for (const line of joined) {
    const [name, ...rest] = line.split(/\s+/);
    const flags: Record<string, string> = {};
    while (rest[0]?.startsWith("--")) {
      const [k, v = ""] = rest.shift()!.slice(2).split("=");
      flags[k] = v;
    }
    const text = rest.join(" ");
    const upper = name.toUpperCase();
    const args = text.startsWith("[") ? (JSON.parse(text) as string[]) : rest;
    if (upper === "FROM") {
      stages.push({ name: args[2] ?? String(stages.length), image: args[0], instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ name: upper, flags, args, text });
  }
  return stages;
}

/** `ENV A=1 B=2` (every ENV of the stage) as one record. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.name === "ENV")) {
    for (const pair of i.args) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}
