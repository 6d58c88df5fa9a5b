import { CloseCode, ErrorCode } from "@colyseus/core";
import { expect, it } from "vitest";
import { CLOSE_REASONS, CloseCodes, JoinErrorCodes, REJOIN_CLOSE_CODES } from "../src/shared/codes";

it("the browser's mirror of Colyseus's close codes equals the installed @colyseus/core", () => {
  for (const name of ["CONSENTED", "SERVER_SHUTDOWN", "WITH_ERROR", "FAILED_TO_RECONNECT", "MAY_TRY_RECONNECT", "NORMAL_CLOSURE", "GOING_AWAY", "NO_STATUS_RECEIVED", "ABNORMAL_CLOSURE"] as const) {
    if (name in CloseCodes) expect(CloseCodes[name as keyof typeof CloseCodes], name).toBe(CloseCode[name]);
  }
});

it("close codes and join error codes are distinct, and every rejoin code is a close code", () => {
  const close = Object.values(CloseCodes);
  expect(new Set(close).size).toBe(close.length);
  const join = Object.values(JoinErrorCodes);
  expect(new Set(join).size).toBe(join.length);
  for (const code of REJOIN_CLOSE_CODES) expect(close).toContain(code);
  for (const code of Object.keys(CLOSE_REASONS)) expect(close).toContain(Number(code));
});

it("join errors refused in matchmaking are HTTP statuses, and none is one of Colyseus's own matchmaking codes", () => {
  // Thrown before a seat is reserved (onCreate, static onAuth): the HTTP answer's status is the code.
  for (const code of [JoinErrorCodes.BAD_OPTIONS, JoinErrorCodes.ROOM_LIMIT, JoinErrorCodes.WORLD_IN_USE, JoinErrorCodes.UNKNOWN_WORLD]) {
    expect(code).toBeGreaterThanOrEqual(400);
    expect(code).toBeLessThan(600);
  }
  const colyseus = Object.values(ErrorCode) as number[];
  for (const code of Object.values(JoinErrorCodes)) expect(colyseus, `JoinErrorCodes ${code}`).not.toContain(code);
  expect(Object.values(CloseCodes)).not.toContain(JoinErrorCodes.UNKNOWN_WORLD);
});
