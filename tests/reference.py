"""An independent, obviously-slow reading of docs/design.md's schedule semantics.

No SimPy, no heaps: time jumps from one step end to the next; at each instant
everything due is settled (steps end, games move on), and only then are free
hosts handed to waiting jobs by (ready time, game index), lowest host first.
A job is one host step (cooperative) or one whole game (synchronous). The
engine must agree with this to the bit, host numbers included.
"""

from __future__ import annotations

from dataclasses import dataclass

Step = tuple[str, float]  # ("host" | "wait", seconds)
Row = tuple[float, float, float, int]  # ready, start, end, host (-1: none)


@dataclass
class _Job:
    end: float
    game: int
    host: int  # -1 for a wait step


def play(games: list[list[Step]], hosts: int, schedule: str) -> list[list[Row]]:
    """Per game, per step: (ready, start, end, host)."""
    rows: list[list[Row]] = [[] for _ in games]
    position = [0] * len(games)
    free = list(range(hosts))
    running: list[_Job] = []
    now = 0.0
    if schedule == "synchronous":
        waiting, due = [(0.0, game) for game in range(len(games))], []
    else:
        waiting, due = [], list(range(len(games)))
    while True:
        while True:
            finished = [job for job in running if job.end == now]
            for job in finished:
                running.remove(job)
                if job.host >= 0:
                    free.append(job.host)
                if schedule == "cooperative":
                    due.append(job.game)
            for game in due:
                if position[game] == len(games[game]):
                    continue
                kind, duration = games[game][position[game]]
                if kind == "host":
                    waiting.append((now, game))
                else:
                    rows[game].append((now, now, now + duration, -1))
                    running.append(_Job(now + duration, game, -1))
                    position[game] += 1
            if finished or due:
                due = []
                continue
            waiting.sort()
            free.sort()
            if not (waiting and free):
                break
            while waiting and free:
                ready, game = waiting.pop(0)
                host = free.pop(0)
                end = _start(games[game], rows[game], position, game, ready, now, host, schedule)
                running.append(_Job(end, game, host))
        if not running:
            return rows
        now = min(job.end for job in running)


def _start(steps, rows, position, game, ready, now, host, schedule) -> float:
    """Record the job's steps from `now`; return when it ends."""
    if schedule == "cooperative":
        _, duration = steps[position[game]]
        position[game] += 1
        rows.append((ready, now, now + duration, host))
        return now + duration
    clock = now
    for index, (_, duration) in enumerate(steps):
        rows.append((ready if index == 0 else clock, clock, clock + duration, host))
        clock = clock + duration
    position[game] = len(steps)
    return clock
