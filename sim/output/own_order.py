"""asyncio's own order beside the tie rule's cooperative figure, where they part.

The tie rule hands the loop round at every host step, to the game ready longest.
asyncio runs a task until it suspends (taking a free semaphore, or putting into a
queue with room, does not), and serves the tasks a loop iteration woke in its own
order. Where that moves the makespan, the run's cooperative figure is not what the
asyncio program would take: the shipped crawler is 0.82 s by the tie rule and 1.21 s
in asyncio's order, which the real program takes. So the scenario is played again in
asyncio's order (`cooperative: {order: asyncio}`, on the same draws), and a sentence
gives that figure when it differs by `NOTED` or more. Only for games that share
(resources, queues, gathers): games that share nothing end at the same makespan in
both orders, which `sim verify` checks against asyncio itself. And only where it is
cheap: asyncio's order costs about 6 µs a step, so runs of more than `MAX_STEPS`
steps are left out.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sim.engine.deadlock import Deadlock
from sim.engine.trace import Trace
from sim.experiment.runs import play_schedule, workload_of
from sim.results.result import Result
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_seconds

__all__ = ["MAX_STEPS", "NOTED", "own_order_note"]

#: The relative difference worth a sentence.
NOTED = 0.05
#: The largest run played again in asyncio's order: about 0.3 s of it.
MAX_STEPS = 50_000
_ASYNCIO = Schedule.of("cooperative", order="asyncio")

_NOTES: WeakKeyDictionary[Result, str | None] = WeakKeyDictionary()


def own_order_note(result: Result) -> str | None:
    """asyncio's own order against the tie rule's cooperative figure on one loop, when
    they differ by `NOTED` or more; None where the games share nothing, the run has no
    such figure, already shows asyncio's order, or is too long to play again. Played
    once per result."""
    if result in _NOTES:
        return _NOTES[result]
    note = None
    traces = result.traces
    tie_rule = next((t for t in traces if _one_loop_by_the_tie_rule(t)), None)
    shown = any(_order(t.schedule) == "asyncio" for t in traces)
    shares = result.scenario.shares
    if shares and tie_rule is not None and not shown and len(tie_rule.start) <= MAX_STEPS:
        try:
            workload = workload_of(result.scenario, result.seed, 0)
            makespan = play_schedule(workload, _ASYNCIO, result.seed).makespan
        except Deadlock:
            makespan = None
        if makespan is not None:
            note = _sentence(tie_rule.schedule, tie_rule.makespan, makespan)
    _NOTES[result] = note
    return note


def _one_loop_by_the_tie_rule(trace: Trace) -> bool:
    """Cooperative by the tie rule on a single host: what asyncio's order also plays."""
    schedule, workload = trace.schedule, trace.workload
    return (
        _order(schedule) == "tie-rule"
        and schedule.hosts(workload.hosts) == 1
        and not workload.switch_cost
    )


def _order(schedule: Schedule) -> str | None:
    """Who goes next among ready games, for a cooperative schedule (else None)."""
    return schedule.cooperative.order if schedule.cooperative is not None else None


def _sentence(schedule: Schedule, tie_rule: float, asyncio: float) -> str | None:
    if tie_rule <= 0 or abs(asyncio - tie_rule) < NOTED * tie_rule:
        return None
    return (
        f"{schedule.label} is the tie rule's figure, {format_seconds(tie_rule)}; in asyncio's "
        f"own order the same games take {format_seconds(asyncio)} "
        f"({(asyncio - tie_rule) / tie_rule:+.0%}): a task keeps the loop until it "
        "suspends, and each turn of the loop serves the tasks it woke in its own order. "
        "That is what an asyncio program of this shape takes; "
        "--schedule 'cooperative(order=asyncio)' shows it in the table."
    )
