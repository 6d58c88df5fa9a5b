// `npm run scalesocket -- [OPTIONS] CMD [-- ARGS...]`: ScaleSocket's command line on this
// project's Colyseus server. Each ScaleSocket room is a Colyseus room of the process-bridge
// type (src/bridge/ProcessRoom.ts): plain WebSocket clients connect to ws://HOST/<room>,
// @colyseus/sdk clients join it with joinOrCreate("process", { room }).
import { createServer } from "node:http";
import { basicAuth, defineRoom, defineServer, logger, matchMaker } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { installAdmission, installCors } from "../../ops/admission";
import { installSignalPolicy } from "../../ops/drain";
import { readServerEnv } from "../../ops/env";
import { monitorCredentials, monitorLoginGate } from "../../ops/monitorAuth";
import { roomBudget } from "../../ops/roomBudget";
import { roomsPerAddress } from "../../ops/roomsPerAddress";
import { ProcessRoom } from "../ProcessRoom";
import { processRoomSchema } from "../settings";
import { parseScaleSocketArgs } from "./options";
import { servePlainClients } from "./plainClients";
import { scaleSocketRoutes } from "./httpRoutes";

const ROOM_TYPE = "process";

/** `--log json`: every log line as one JSON object. */
function logAsJson(): void {
  const target = logger as unknown as Record<string, (...args: unknown[]) => void>;
  for (const level of ["debug", "info", "warn", "error"]) {
    target[level] = (...args: unknown[]) =>
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, message: args.map((a) => (a instanceof Error ? a.stack : typeof a === "string" ? a : JSON.stringify(a))).join(" ") })}\n`);
  }
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseScaleSocketArgs(process.argv.slice(2));
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message: string };
    // commander has printed --help / --version / its own error already.
    if (err.code?.startsWith("commander.")) process.exit(err.exitCode ?? 1);
    console.error(`scalesocket: ${err.message}`);
    process.exit(2);
  }
  if (options.logJson) logAsJson();
  const env = readServerEnv();
  roomBudget.configure({ maxRooms: env.http.maxRooms, maxRoomsByType: { [ROOM_TYPE]: options.maxrooms ?? env.http.maxRoomsByType.process } });
  roomsPerAddress.configure(env.http.roomsPerAddress);
  const allowed = options.rooms ? (room: string) => options.rooms!.includes(room) : undefined;

  const httpServer = createServer();
  const admission = installAdmission(httpServer, env.http);
  installCors(matchMaker.controller, env.http.corsOrigins, env.http.trustProxy);
  const { maxMessageBytes } = processRoomSchema.parse(options.room);
  servePlainClients(httpServer, { roomType: ROOM_TYPE, maxMessageBytes, allowed, admitJoin: admission.admitJoin, addressOf: admission.addressOf });
  // One process or many, as the main server: with REDIS_URL the rooms are listed cluster-wide
  // (a front door routes ws://HOST/<room> by `hash $uri consistent`; README).
  const cluster = env.redisUrl ? { presence: new RedisPresence(env.redisUrl), driver: new RedisDriver(env.redisUrl), publicAddress: env.publicAddress } : {};
  const monitorAuth = monitorCredentials(env.monitorUser, env.monitorPassword);
  const server = defineServer({
    ...cluster,
    rooms: { [ROOM_TYPE]: defineRoom(ProcessRoom, { process: { ...options.room, allowedRooms: options.rooms } }).filterBy(["room"]) },
    transport: new WebSocketTransport({ server: httpServer }),
    express: (app) => {
      // The rooms (name, connections, metadata) in @colyseus/monitor, behind basic auth.
      app.use("/monitor", monitorLoginGate(monitorAuth, { failsPer15Min: env.monitorFailsPer15Min, trustProxy: env.http.trustProxy }));
      app.use("/monitor", monitor({ use: [basicAuth({ users: { [monitorAuth.user]: monitorAuth.password }, realm: "monitor" })] }));
      scaleSocketRoutes(app, { roomType: ROOM_TYPE, api: options.api, metrics: options.metrics, staticdir: options.staticdir });
    },
  });
  installSignalPolicy();
  await server.listen(options.port, options.host);
  logger.info(`scalesocket: listening on ${options.host}:${options.port}, wrapping ${options.room.command.join(" ")}`);
  if (monitorAuth.generated && !env.production) logger.info(`/monitor: user "${monitorAuth.user}", generated password "${monitorAuth.password}"`);

  if (options.oneshot) {
    // Serve one room, then stop.
    const done = setInterval(() => {
      if (roomBudget.created === 0 || roomBudget.count(ROOM_TYPE) > 0) return;
      clearInterval(done);
      void server.gracefullyShutdown(true);
    }, 100);
    done.unref();
  }
}

void main();
