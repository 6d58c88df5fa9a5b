#!/usr/bin/env python3
"""The bunny game's backend, for the process bridge room (ScaleSocket's --json protocol).

Standard library only. Reads one JSON event per line on stdin and prints JSON lines:
  {"t": "Join", "_from": ID}                             a player joined (ID: a small integer)
  {"t": "Leave", "_from": ID}                            a player left
  {"t": "Input", "_from": ID, "data": {"x": 123, "y": 456}}   a click: move the bunny there
Every change prints the whole state to everyone; a new player also gets a welcome of its own
("_to": ID). Anything else, malformed or hostile, is ignored: this process never dies of its
input (clients cannot end the room for everyone).
"""
import json
import sys

players = {}


def send(message):
    print(json.dumps(message), flush=True)


def number(value, lo, hi):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi


def handle(event):
    if not isinstance(event, dict):
        return
    kind = event.get("t")
    who = event.get("_from")
    if not isinstance(who, int) or isinstance(who, bool):
        return
    if kind == "Join":
        players[who] = {"x": 100 + 40 * (len(players) % 10), "y": 100}
        send({"t": "Welcome", "_to": who, "data": {"id": who}})
    elif kind == "Leave":
        players.pop(who, None)
    elif kind == "Input" and who in players:
        data = event.get("data")
        if not (isinstance(data, dict) and number(data.get("x"), 0, 4000) and number(data.get("y"), 0, 4000)):
            return
        players[who] = {"x": data["x"], "y": data["y"]}
    else:
        return
    send({"t": "State", "data": {str(k): v for k, v in players.items()}})


for line in sys.stdin:
    try:
        handle(json.loads(line))
    except (ValueError, RecursionError, TypeError, KeyError, OverflowError, MemoryError):
        # Bad or hostile input (not JSON, nested too deep, ...): ignored.
        continue
