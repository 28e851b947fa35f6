"""A pure-Python event loop on `heapq`, no SimPy: the floor `sim` is measured against.

The polgar shape, cooperative, written plainly: one heap entry per step end,
a deque of games waiting for a host, and, like `sim`, a record of when every
step started and ended (a simulator that keeps no trace cannot show one). It
knows nothing but this one shape (a host step then a wait step each round,
FIFO hosts, no tie rule), which is what makes it fast; `sim` plays any
scenario, exactly by docs/design.md's tie rule.
"""

from __future__ import annotations

from array import array
from collections import deque
from heapq import heappop, heappush
from itertools import count


def cooperative(players: int, rounds: int, host: float, wait: float, hosts: int = 1) -> float:
    HOST_END, WAIT_END = 0, 1
    start = array("d", bytes(8 * players * rounds * 2))  # per step, game after game
    end = array("d", bytes(8 * players * rounds * 2))
    step = [2 * rounds * game for game in range(players)]  # per game: its current step
    last = [2 * rounds * (game + 1) for game in range(players)]
    events: list[tuple[float, int, int, int]] = []
    order = count()
    waiting = deque(range(players))
    free = hosts
    now = 0.0
    while True:
        while free and waiting:
            free -= 1
            game = waiting.popleft()
            start[step[game]] = now
            heappush(events, (now + host, next(order), HOST_END, game))
        if not events:
            return now
        now, _, kind, game = heappop(events)
        row = step[game]
        end[row] = now
        step[game] = row = row + 1
        if kind == HOST_END:
            free += 1
            start[row] = now
            heappush(events, (now + wait, next(order), WAIT_END, game))
        elif row < last[game]:
            waiting.append(game)
