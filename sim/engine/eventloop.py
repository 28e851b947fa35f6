"""Cooperative play of games that share, on an event loop of its own: the fast path.

The task engine (`sim.engine.programs` with its `Cooperative` runner) plays
every operation as SimPy events; this loop plays the same rules, and gives the
same trace bit for bit (tests/test_fast_shared.py differences them), with as
few events as cooperative.py spends on games that share nothing:

- an instant is played in the task engine's phases: the steps that end at
  it (each of which may start others at the same instant), then one hand-out
  of every resource and queue (smallest tie-rule key first, the served going
  on at once), then these again while anything is due at the instant, then
  the hosts, lowest first, by (ready time, game);
- a wait step is no event: a game walks on through its waits, adding each
  one's length as the task engine's timer would, and joins the next resource,
  queue or host it asks for *ahead of time*, with the ready time it will have.
  A request joined ahead counts only from its ready time on, when it is as
  if made among the first things of that instant, which is where the task
  engine makes it. A resource or queue that could serve such a request then
  sets itself a wake-up at its ready time; one that cannot is woken by what
  frees it;
- what changes what others see (giving units back, a game's or child's end,
  a gather's start) waits for its instant as an event; so does a zero-length
  wait reached at the instant itself, which the task engine also plays as an
  event of that instant;
- freed units go at once to the waiters ready since before now, and a freed
  host to the head of the asks, where the end-of-instant hand-out could make
  no other choice (`pass_on`; a host step's end in the loop), with what the
  served go on to do played as the hand-out would play it;
- waiters join a deque while they come in (ready time, key) order, as games
  with alike waits do, and a heap takes the rest (`_Line`);
- rows are written in place: those laid out in the workload at their row,
  a consumer's in blocks per group in the order its rounds are taken.

It applies to the cooperative schedule with every host of the scenario and no
switching cost; elsewhere, and when the games wait for ever (the task engine
then names who waits for what), `play` returns None and the task engine plays.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from heapq import heappop, heappush
from itertools import count

import numpy as np

from sim.engine.clock import DIGITS
from sim.engine.holding import HOLDS_HOST
from sim.engine.plan import ACQUIRE, GATHER, GET, PUT, RELEASE, TIMED, Op
from sim.engine.programs import producers_of
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

__all__ = ["play"]

_PER_SECOND = 10.0**DIGITS
_NEVER = math.inf
#: Every whole number of seconds below this (388 days) is its own instant:
#: `round(x * 10.0**12) / 10.0**12 == x`, checked for each of them (no bound on the
#: rounding errors shows it; 36 893 489 is the first whole number that is not). A sum
#: that is a whole number below it needs no rounding, which is most of what an instant
#: costs the loop where durations are whole seconds.
_WHOLE = 2.0**25
#: Hosts below this number may be handed on at once while others free up at the same
#: instant (checking that every lower host stays busy costs a scan of them).
_LOWER = 16

#: An operation as the loop reads it: (code, leaf, shared | count, units, child, width).
Compiled = tuple
#: The loop's own codes beside the plan's: a wait, a host (block, native) step, a round's end.
_WAIT, _ASK, _END = 10, 11, 12
#: Timed kinds that ask for a host: those that hold the loop.
_ASKING = frozenset(STEP_KINDS.index(kind) for kind in HOLDS_HOST["cooperative"])


class _Task:
    """A game's line of play, or one child of a gather; `row` and `key` are those of its
    leaf 0 in the current round, `width` the rows of its group's round."""

    __slots__ = (
        "consumer",
        "game",
        "group",
        "hrow",
        "key",
        "left",
        "move",
        "moves",
        "ops",
        "parent",
        "pc",
        "row",
        "width",
    )

    def __init__(self, game: int, group: int, ops: tuple[Compiled, ...], width: int) -> None:
        self.game, self.group, self.ops, self.width = game, group, ops, width
        self.pc = self.move = self.moves = self.row = self.key = self.left = 0
        self.hrow = -1
        self.consumer = False
        self.parent: _Task | None = None


class _Line:
    """Waiters by (ready time, key): a deque while they join in that order, as they do
    when the games' waits are alike (appending and taking the head then cost nothing
    at any length), and a heap for the others; the head is the smaller of the two."""

    __slots__ = ("heap", "in_order")

    def __init__(self) -> None:
        self.in_order: deque[tuple] = deque()
        self.heap: list[tuple] = []

    def push(self, entry: tuple) -> None:
        in_order = self.in_order
        if not in_order or entry > in_order[-1]:
            in_order.append(entry)
        else:
            heappush(self.heap, entry)

    def first(self) -> tuple | None:
        in_order, heap = self.in_order, self.heap
        if in_order:
            return heap[0] if heap and heap[0] < in_order[0] else in_order[0]
        return heap[0] if heap else None

    def pop(self) -> tuple:
        in_order, heap = self.in_order, self.heap
        if in_order and (not heap or in_order[0] < heap[0]):
            return in_order.popleft()
        return heappop(heap)


def play(workload: Workload, schedule: Schedule) -> Trace | None:
    """Play every game cooperatively; None where this loop does not apply."""
    if (
        workload.shared is None  # the task engine rounds no instant there: neither may this
        or workload.switch_cost
        or schedule.hosts(workload.hosts) != workload.hosts
    ):
        return None
    return _run(workload, schedule)


def _compiled(ops: tuple[Op, ...]) -> tuple[Compiled, ...]:
    """The operations as tuples, a wait and a host step told apart, and an `_END`."""
    out = []
    for op in ops:
        if op.code == TIMED:
            out.append((_ASK if op.kind in _ASKING else _WAIT, op.leaf, 0, 0, (), 0))
        elif op.code == GATHER:
            out.append((GATHER, op.leaf, op.count, 0, _compiled(op.child), op.width))
        else:
            out.append((op.code, op.leaf, op.shared, op.units, (), 0))
    out.append((_END, 0, 0, 0, (), 0))
    return tuple(out)


def _run(workload: Workload, schedule: Schedule) -> Trace | None:
    """The loop itself: closures over local variables, the cheapest state Python has
    for code that runs once per step (see cooperative.py)."""
    plan = workload.plan
    groups = workload.scenario.players
    widths = [len(leaves) for leaves in plan.leaves]
    served = workload.served or {}
    # rows: those laid out in the workload, then each served group's rounds in the
    # order they are taken, then the consumers' last gets
    size = len(workload.duration)
    region: dict[int, int] = {}
    for g, table in served.items():
        region[g] = size
        size += table.size
    closed_base = size
    size += sum(groups[g].count for g in served)
    leaves = max(widths, default=1) or 1  # a key: ((game × moves) + move) × leaves + leaf
    moves = max([1, *(len(t) + 1 for t in served.values())]
                + [group.moves for group in groups]) + 1  # fmt: skip
    ready_a, start_a, end_a = np.empty(size), np.empty(size), np.empty(size)
    durations = np.zeros(size)  # per row, as the rows are laid out
    durations[: len(workload.duration)] = workload.duration
    for g, table in served.items():
        durations[region[g] : region[g] + table.size] = table.ravel()
    durs = memoryview(durations)
    host_a = np.full(size, NO_HOST, dtype=np.int32)
    ready, start, end, on_host = (memoryview(a) for a in (ready_a, start_a, end_a, host_a))
    resources = plan.resources
    members = len(plan.names)
    free = list(plan.capacity)  # per resource: units free
    maxsize = list(plan.capacity)  # per queue: its maxsize (0: unbounded)
    items = [0] * members
    producers = producers_of(workload)
    waiting = [_Line() for _ in range(members)]  # resource: (ready, key, units, task, row)
    putters: list[list] = [[] for _ in range(members)]  # queue: (ready, key, task, row)
    getters: list[list] = [[] for _ in range(members)]  # queue: (ready, key, task)
    woken = [_NEVER] * members  # per member: its pending wake-up
    touched: set[int] = set()  # members something happened to at this instant
    # (time, ticket, task, host): a host step's end (host ≥ 0) or a task going on (-1);
    # with no task, a wake-up of a member (host: its index) or of the hosts (-1)
    timers: list = []
    ticket = count()
    free_hosts = list(range(workload.hosts))
    asking = _Line()  # hosts: (ready, key, task, row)
    asked, asked_heap = asking.in_order, asking.heap
    last_game = [-1] * workload.hosts
    taken = dict.fromkeys(served, 0)
    took: dict[int, list[tuple[int, int]]] = {g: [] for g in served}  # rounds taken: game, move
    closed: list[tuple[int, int, int]] = []  # per consumer's last get: game, move, queue
    game_tasks = [1] * workload.games
    puts = plan.puts
    per_second = _PER_SECOND
    now = 0.0
    alive = workload.games
    switches = 0
    hosts_due = settle_due = deferring = False
    hosts_woken = _NEVER
    deferred: list[_Task] = []  # tasks going on at now once the hand-out is done
    busy_until = [0.0] * workload.hosts

    def walk(task: _Task, t: float) -> None:
        """Play `task` from its operation `pc` at time t (now, or later along its waits)
        until it waits for a host, a resource, a queue or an event."""
        nonlocal hosts_due, settle_due, alive, deferring
        ops = task.ops
        pc = task.pc
        while True:
            code, leaf, a, b, child, width = ops[pc]
            if code == _WAIT:
                row = task.row + leaf
                t2 = t + durs[row]
                if not (t2 < _WHOLE and t2.is_integer()):  # else already its instant
                    t2 = round(t2 * per_second) / per_second
                    if t2 < t:
                        t2 = t
                ready[row] = start[row] = t
                end[row] = t2
                pc += 1
                if t2 == now:  # the task engine's timer of this very instant
                    task.pc = pc
                    soon(task)
                    return
                t = t2
            elif code == _ASK:  # a host step: ask for a host
                row = task.row + leaf
                ready[row] = t
                task.pc = pc
                entry = (t, task.key + leaf, task, row)
                if asked and entry > asked[-1]:  # `_Line.push`, written out
                    asked.append(entry)
                else:
                    asking.push(entry)
                if free_hosts:  # else the next host freed hands them out
                    hosts_due = True
                return
            elif code == _END:
                if task.parent is None:
                    if task.consumer:
                        task.move += 1
                        task.key += leaves
                        pc = 0
                        continue
                    move = task.move + 1
                    if move < task.moves:
                        task.move = move
                        task.row += task.width
                        task.key += leaves
                        pc = 0
                        continue
                if t > now:
                    task.pc = pc
                    heappush(timers, (t, next(ticket), task, -1))
                    return
                task.move += 1
                ended(task)
                return
            elif code == ACQUIRE:
                row = task.row + leaf
                ready[row] = t
                task.pc = pc
                line = waiting[a]
                entry = (t, task.key + leaf, b, task, row)
                in_order = line.in_order
                if in_order and entry > in_order[-1]:  # `_Line.push`, written out
                    in_order.append(entry)
                else:
                    line.push(entry)
                if t == now:
                    touched.add(a)
                    settle_due = True
                elif b <= free[a]:  # it may be served when ready: `wake_ups`
                    touched.add(a)
                return
            elif code == RELEASE:
                if t > now:
                    task.pc = pc
                    heappush(timers, (t, next(ticket), task, -1))
                    return
                end[task.row + leaf] = now
                free[a] += b
                line = waiting[a]
                first = line.in_order
                if first and first[0][0] < now and first[0][2] <= free[a] and not line.heap:
                    # the head waiter is served at once (`pass_on`, for one waiter ready
                    # since before now): most often a game whose next step is a host step
                    _r, _k, units, served, row = first.popleft()
                    free[a] -= units
                    start[row] = now
                    spc = served.pc + 1
                    served.pc = spc
                    op = served.ops[spc]
                    if op[0] == _ASK:  # `walk`'s ask, written out
                        row = served.row + op[1]
                        ready[row] = now
                        entry = (now, served.key + op[1], served, row)
                        if asked and entry > asked[-1]:
                            asked.append(entry)
                        else:
                            asking.push(entry)
                        if free_hosts:
                            hosts_due = True
                    else:
                        was, deferring = deferring, True
                        walk(served, now)
                        deferring = was
                    if free[a] and (first or line.heap):
                        pass_on(line, a)
                elif first or line.heap:
                    pass_on(line, a)
                if free[a]:  # units left: a waiter may be served now, or later (`wake_ups`)
                    touched.add(a)
                    settle_due = True
                pc += 1
            elif code == PUT:
                row = task.row + leaf
                ready[row] = t
                task.pc = pc
                heappush(putters[a], (t, task.key + leaf, task, row))
                touched.add(a)
                settle_due = True
                return
            elif code == GET:
                task.pc = pc
                heappush(getters[a], (t, task.key, task))
                touched.add(a)
                settle_due = True
                return
            else:  # GATHER: its children start as events of this instant
                if t > now:
                    task.pc = pc
                    heappush(timers, (t, next(ticket), task, -1))
                    return
                row = task.row + leaf
                ready[row] = start[row] = now
                task.pc = pc
                task.left = a
                task.hrow = row
                for i in range(a):
                    kid = _Task(task.game, task.group, child, task.width)
                    offset = leaf + 1 + i * width
                    kid.parent, kid.move = task, task.move
                    kid.row = task.row + offset
                    kid.key = task.key + offset
                    soon(kid)
                alive += a
                game_tasks[task.game] += a
                return

    def soon(task: _Task) -> None:
        """Go on with `task` at this instant, as an event: after this instant's hand-out
        of resources and queues when a grant made ahead of it plays the task."""
        if deferring:
            deferred.append(task)
        else:
            heappush(timers, (now, next(ticket), task, -1))

    def pass_on(line: _Line, m: int) -> None:
        """Units just given back to resource `m` go at once to its waiters (`line`) ready
        since before now, as the instant's hand-out would give them: no request made at
        now can pass those, and no other grant can take units from them. What the served
        go on to do is played as in the hand-out (`soon`); a host step, the most common
        first step inside a `with`, is asked for here rather than by `walk`."""
        nonlocal deferring, hosts_due
        was, deferring = deferring, True
        in_order, heap = line.in_order, line.heap
        while True:  # `_Line.first` and `pop`, written out
            if in_order and (not heap or in_order[0] < heap[0]):
                f = in_order[0]
                if f[2] > free[m] or f[0] >= now:
                    break
                in_order.popleft()
            elif heap:
                f = heap[0]
                if f[2] > free[m] or f[0] >= now:
                    break
                heappop(heap)
            else:
                break
            _r, _k, units, task, row = f
            free[m] -= units
            start[row] = now
            pc = task.pc + 1
            task.pc = pc
            op = task.ops[pc]
            if op[0] == _ASK:  # `walk`'s ask, written out
                leaf = op[1]
                row = task.row + leaf
                ready[row] = now
                entry = (now, task.key + leaf, task, row)
                if asked and entry > asked[-1]:
                    asked.append(entry)
                else:
                    asking.push(entry)
                if free_hosts:
                    hosts_due = True
            else:
                walk(task, now)
        deferring = was

    def ended(task: _Task) -> None:
        """`task` is done at now: its parent's gather may end, its game's queues close."""
        nonlocal alive, settle_due
        alive -= 1
        game = task.game
        game_tasks[game] -= 1
        parent = task.parent
        if parent is not None:
            parent.left -= 1
            if parent.left == 0:
                end[parent.hrow] = now
                parent.pc += 1
                soon(parent)
        elif game_tasks[game] == 0:
            for q in puts[task.group]:
                producers[q] -= 1
                if producers[q] == 0:
                    touched.add(q)
                    settle_due = True

    def head(m: int) -> tuple | None:
        """The entry of the waiter member `m` serves next, if it can serve it now."""
        if m < resources:
            f = waiting[m].first()
            if f is not None and f[0] <= now and f[2] <= free[m]:
                return f
            return None
        best = None
        p = putters[m]
        if p and p[0][0] <= now and not 0 < maxsize[m] <= items[m]:
            best = p[0]
        g = getters[m]
        if g and g[0][0] <= now and (items[m] or (not producers[m] and not p)):
            e = g[0]
            if best is None or e[0] < best[0] or (e[0] == best[0] and e[1] < best[1]):
                best = e
        return best

    def settle() -> None:
        """The hand-out of every resource and queue at now: smallest key first, each
        served going on at once (what it asks next competes in this hand-out)."""
        nonlocal settle_due
        while True:
            best_m, best = -1, None
            for m in touched:
                e = head(m)
                if e is not None and (
                    best is None or e[0] < best[0] or (e[0] == best[0] and e[1] < best[1])
                ):  # (ready, key) first: a key is never asked twice
                    best_m, best = m, e
            if best is None:
                break
            m = best_m
            if m < resources:
                _r, _k, units, task, row = waiting[m].pop()
                free[m] -= units
                start[row] = now
            elif len(best) == 4:  # a putter
                _r, _k, task, row = heappop(putters[m])
                items[m] += 1
                start[row] = end[row] = now
            else:
                got, _k, task = heappop(getters[m])
                g = task.group
                if items[m]:
                    items[m] -= 1
                    k = taken[g]
                    taken[g] = k + 1
                    width = widths[g]
                    row = task.row = region[g] + k * width
                    took[g].append((task.game, task.move))
                else:  # closed: the consumer's last get, and its end
                    row = closed_base + len(closed)
                    closed.append((task.game, task.move, m))
                    ready[row] = got
                    start[row] = end[row] = now
                    task.move += 1
                    ended(task)
                    continue
                ready[row] = got
                start[row] = end[row] = now
            task.pc += 1
            walk(task, now)
        settle_due = False

    def hand_out() -> None:
        """Free hosts, lowest first, to the asks ready by now, by (ready time, key)."""
        nonlocal hosts_due
        while free_hosts and (f := asking.first()) is not None and f[0] <= now:
            _r, _k, task, row = asking.pop()
            until = now + durs[row]
            if not (until < _WHOLE and until.is_integer()):
                until = max(round(until * per_second) / per_second, now)
            serve(heappop(free_hosts), task, row, until)
        hosts_due = False

    def serve(h: int, task: _Task, row: int, until: float) -> None:
        """Host `h` starts the host step at `row` of `task` now; it ends at `until`."""
        nonlocal switches
        game = task.game
        if last_game[h] != game:
            if last_game[h] >= 0:
                switches += 1
            last_game[h] = game
        start[row] = now
        end[row] = until  # written now: the timer `serve` sets is at its end
        on_host[row] = h
        busy_until[h] = until
        heappush(timers, (until, next(ticket), task, h))

    def wake_ups() -> None:
        """At the instant's end: wake-ups for requests joined ahead that what they wait
        for could serve at their ready time."""
        for m in touched:
            at = _NEVER
            if m < resources:
                f = waiting[m].first()
                if f is not None and f[0] > now and f[2] <= free[m]:
                    at = f[0]
            else:
                p, g = putters[m], getters[m]
                if p and p[0][0] > now and not 0 < maxsize[m] <= items[m]:
                    at = p[0][0]
                if g and now < g[0][0] < at and (items[m] or (not producers[m] and not p)):
                    at = g[0][0]
            if at < woken[m]:
                woken[m] = at
                heappush(timers, (at, next(ticket), None, m))
        touched.clear()

    compiled = [_compiled(ops) for ops in plan.ops]
    first = workload.first_step.tolist()
    for index, g in enumerate(workload.group.tolist()):
        task = _Task(index, g, compiled[g], widths[g])
        task.key = index * moves * leaves
        if g in served:
            task.consumer = True
        else:
            task.moves = groups[g].moves
            task.row = first[index]
        walk(task, 0.0)  # every game starts at 0, in file order
    while True:
        while True:
            while timers and timers[0][0] == now:
                _t, _n, task, h = heappop(timers)
                if task is None:  # a wake-up
                    if h >= 0:
                        if woken[h] == now:
                            woken[h] = _NEVER
                        touched.add(h)
                        settle_due = True
                    else:
                        hosts_woken = _NEVER
                        hosts_due = True
                elif h >= 0:  # a host step ended: its game goes on, then the host is free
                    task.pc += 1
                    walk(task, now)
                    # the host straight to the head of the asks, when the end-of-instant
                    # hand-out could make no other choice: the head asked before now (no
                    # ask of this instant passes it), no other host is free and every
                    # lower one is busy past now, and the step takes time (the host is
                    # not back in this instant)
                    # (`_Line.first`, `pop` and `serve`, written out: once a round)
                    if not free_hosts and (asked or asked_heap):
                        if not asked_heap or (asked and asked[0] < asked_heap[0]):
                            f, in_order = asked[0], True
                        else:
                            f, in_order = asked_heap[0], False
                        if f[0] < now and (h == 0 or (h < _LOWER and min(busy_until[:h]) > now)):
                            _r, _k, task, row = f
                            until = now + durs[row]
                            if not (until < _WHOLE and until.is_integer()):
                                until = round(until * per_second) / per_second
                            if until > now:
                                if in_order:
                                    asked.popleft()
                                else:
                                    heappop(asked_heap)
                                game, last = task.game, last_game[h]
                                if last != game:
                                    if last >= 0:
                                        switches += 1
                                    last_game[h] = game
                                start[row] = now
                                end[row] = until  # written now: the timer is at its end
                                on_host[row] = h
                                busy_until[h] = until
                                heappush(timers, (until, next(ticket), task, h))
                                if (
                                    not (settle_due or deferred or hosts_due or touched)
                                    and (after := timers[0][0]) > now
                                ):
                                    # the instant is over with nothing left to settle
                                    # (no host is free): on to the next, as below
                                    now = after
                                continue
                    heappush(free_hosts, h)
                    hosts_due = True
                else:
                    walk(task, now)
            if settle_due:
                settle()
            if deferred:
                for task in deferred:
                    heappush(timers, (now, next(ticket), task, -1))
                deferred.clear()
            if timers and timers[0][0] == now:
                continue
            if hosts_due:
                hand_out()
            if not (timers and timers[0][0] == now):
                break
        if touched:
            wake_ups()
        if free_hosts and (f := asking.first()) is not None and now < f[0] < hosts_woken:
            hosts_woken = f[0]
            heappush(timers, (hosts_woken, next(ticket), None, -1))
        if not timers:
            break
        now = timers[0][0]
    if alive:
        return None  # waits for ever: the task engine says who waits for what
    times = (ready_a, start_a, end_a, host_a)
    return _trace(workload, schedule, times, durations, switches, took, closed)


def _trace(
    workload: Workload,
    schedule: Schedule,
    times: tuple[np.ndarray, ...],
    durations: np.ndarray,
    switches: int,
    took: dict[int, list[tuple[int, int]]],
    closed: list[tuple[int, int, int]],
) -> Trace:
    """The trace: rows laid out, then the rounds consumers took and their last gets;
    `durations`, the loop's own column of them, becomes the played workload's."""
    laid_out = len(workload.duration)
    if not took:
        played = dataclasses.replace(workload, served=None)
        played.__dict__["plan"] = workload.plan
        columns = [column[:laid_out] for column in times]
    else:
        region = laid_out
        sources = []
        for group, table in (workload.served or {}).items():
            sources.append(region + np.arange(len(took[group]) * len(workload.plan.leaves[group])))
            region += table.size
        sources.append(region + np.arange(len(closed)))
        rows = np.concatenate(sources)
        played, columns = workload.with_rows(
            workload.served_rows(took, closed), [(c, c[rows]) for c in times], durations
        )
    trace = Trace(played, schedule, *columns)
    return dataclasses.replace(trace, switches=switches)
