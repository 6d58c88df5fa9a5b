#!/usr/bin/env python3
"""The bunny game's backend (ScaleSocket's multiplayer example), for the process bridge room.

Standard library only. Reads one JSON event per line on stdin and prints JSON lines:
  {"t": "Connect", "id": ID}             a player joined
  {"t": "Disconnect", "id": ID}          a player left
  {"t": "Input", "id": ID, "data": {"x": 123, "y": 456}}   a click: move the bunny there
Every change prints the whole state to everyone; a new player also gets a welcome of its own
("_to": ID).
"""
import json
import sys

players = {}


def send(message):
    print(json.dumps(message), flush=True)


def number(value, lo, hi):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and lo <= value <= hi


for line in sys.stdin:
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if not isinstance(event, dict):
        continue
    kind = event.get("t")
    who = event.get("id") or event.get("_from")
    if kind == "Connect":
        players[who] = {"x": 100 + 40 * (len(players) % 10), "y": 100}
        send({"t": "Welcome", "_to": who, "data": {"id": who}})
    elif kind == "Disconnect":
        players.pop(who, None)
    elif kind == "Input" and who in players:
        data = event.get("data")
        if not (isinstance(data, dict) and number(data.get("x"), 0, 4000) and number(data.get("y"), 0, 4000)):
            continue
        players[who] = {"x": data["x"], "y": data["y"]}
    else:
        continue
    send({"t": "State", "data": players})
