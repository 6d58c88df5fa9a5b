/**
 * Colyseus 0.18 needs Node >= 22 (on 20, reconnection breaks: the SDK's and the server's
 * WebSocket handling rely on 22's). A server started on an older Node would run and fail
 * later in ways that look like our bugs, so the entry points refuse at once, in one line.
 *
 * No imports: this runs before any dependency is loaded (the entry points import the
 * server dynamically after this check, since static imports would evaluate first).
 */
export const MIN_NODE_MAJOR = 22;

/** The refusal line for `version` (e.g. "v20.20.2"), or undefined when it is new enough. */
export function nodeVersionProblem(version: string = process.version, execPath: string = process.execPath): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `colyseus-mmo needs Node >= ${MIN_NODE_MAJOR} (Colyseus 0.18); this is Node ${version} (${execPath}). ` +
    `Run it through npm (\`npm start\`, \`npm run start:prod\`: npm scripts use the node@22 in node_modules) ` +
    `or with node_modules/.bin/node, or install Node ${MIN_NODE_MAJOR}.`
  );
}

/** Exits with status 1 and the refusal line on an older Node. */
export function requireSupportedNode(): void {
  const problem = nodeVersionProblem();
  if (!problem) return;
  console.error(problem);
  process.exit(1);
}
