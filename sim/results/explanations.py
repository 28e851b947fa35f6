"""Plain words about a result: why a schedule beats synchronous, why a figure differs
from the article's estimate.

The sentences under `sim run`'s table and at the top of the report page. They
are built from the same workload and traces as the tables, so every number in
them is one the tables show too. Games that share resources or queues wait for
one another, so the article's reasoning does not hold for them: they get no
comparison with its estimate, and `bottleneck` says instead which resource
held them back and what raising its limit did when played again.
"""

from __future__ import annotations

import math

from sim.engine.trace import Trace
from sim.engine.workload import WAIT
from sim.results import closed_forms, shared
from sim.results.result import Result
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count, format_seconds

__all__ = [
    "article_notes",
    "bottleneck",
    "busiest",
    "comparisons",
    "explain",
    "explanations",
    "fullest",
    "rewrites",
]

#: How a scenario `sim record` wrote begins its description: its first schedule is then
#: the recorded program's own, and the others are rewrites of it.
RECORDED = "recorded from "


def comparisons(result: Result) -> list[str]:
    """Plain sentences on why each schedule beats synchronous here, or does not."""
    scenario = result.scenario
    if not result.traces or not result.baseline > 0:  # NaN: synchronous could not play
        return []
    host = scenario.host.name
    player = scenario.players[0].name if len(scenario.players) == 1 else "player"
    workload = result.traces[0].workload
    waiting = float(workload.duration[workload.kind == WAIT].sum())
    share = waiting / (waiting + workload.host_work()) if waiting else 0.0
    idle = workload.host_work() / (workload.hosts * result.baseline)
    sentences = []
    for trace in result.traces:
        if trace.schedule.kind == "synchronous":
            continue
        label, makespan = trace.schedule.label, trace.makespan
        busy = workload.host_work() / (workload.hosts * makespan) if makespan else 0.0
        speedup = result.baseline / makespan if makespan else math.inf
        figures = f"{format_seconds(makespan)} against {format_seconds(result.baseline)}"
        if speedup > 1 + 1e-9:
            overlap = (
                f"{host} turns to another {player} whenever one is waiting, so the waits "
                f"overlap {host}'s work and {host} is busy {_percent(busy)} of the time"
                if trace.schedule.kind == "cooperative"
                else f"the waits overlap the work, and the hosts are busy {_percent(busy)}"
            )
            sentences.append(
                f"{label} is {speedup:.2f}× faster than synchronous ({figures}). "
                f"Synchronous, {host} also sits through every wait step: {_percent(share)} of "
                f"the games' step time is waiting, so {host} is busy only {_percent(idle)}; "
                f"under {label}, {overlap}."
            )
        elif speedup >= 1 - 1e-9 and scenario.shares:  # games wait for one another too
            sentences.append(f"{label} is no faster than synchronous ({figures}).")
        elif speedup >= 1 - 1e-9:
            if workload.games <= workload.hosts:
                reason = "every game has a host to itself, so no game ever waits for another"
            elif not waiting:
                reason = (
                    f"every step needs {host}, so there is no waiting to overlap; "
                    "only more hosts would help"
                )
            else:
                reason = f"the waits do not overlap {host}'s work here"
            sentences.append(f"{label} is no faster than synchronous ({figures}): {reason}.")
        else:
            sentences.append(f"{label} is {1 / speedup:.2f}× slower than synchronous ({figures}).")
    if scenario.random:  # drawn durations: these are one replication's figures
        return [f"In replication 1, {sentence}" for sentence in sentences]
    return sentences


def article_notes(result: Result) -> list[str]:
    """Per schedule, how the simulated figure compares with the article's estimate
    (none for random durations: one replication's figure is not the one to compare)."""
    if result.scenario.random:
        return []
    notes = []
    for trace in result.traces:
        label, makespan = trace.schedule.label, trace.makespan
        estimate = closed_forms.article_estimate(result.scenario, trace.schedule.kind)
        if text := explain(trace):
            notes.append(text)
        elif math.isnan(estimate):  # no estimate for games that wait for one another
            continue
        elif abs(makespan - estimate) <= 1e-9 * max(1.0, makespan):
            notes.append(f"{label}: {format_seconds(makespan)}, exactly the article's estimate.")
        else:
            notes.append(
                f"{label}: {format_seconds(makespan)} against the article's estimate of "
                f"{format_seconds(estimate)}."
            )
    return notes


def explanations(result: Result) -> list[str]:
    """Plain sentences on why a simulated figure differs from the article's estimate
    (none for random durations: one replication's figure is not the one to explain)."""
    if result.scenario.random:
        return []
    return [text for trace in result.traces if (text := explain(trace))]


def explain(trace: Trace) -> str | None:
    """Why one schedule's simulated figure differs from the article's estimate, if it does;
    for threads under the GIL, that their figure is one draw of the OS's choices."""
    workload = trace.workload
    scenario = workload.scenario
    threaded = trace.schedule.threaded
    if threaded is not None and threaded.gil and trace.switches:
        times = format_count(trace.switches)
        return (
            f"{trace.schedule.label}: the GIL changed hands {times} times; who got it next was "
            "the OS's choice, drawn from the seed (--seed): another seed gives another "
            "interleaving and a slightly different makespan, and replications (-r) average them."
        )
    if trace.schedule.kind != "cooperative" or scenario.shares:
        return None
    estimate = closed_forms.article_estimate(scenario, trace.schedule)
    makespan = trace.makespan
    over = makespan - estimate
    if abs(over) <= 1e-9 * max(1.0, makespan):
        return None
    hosts = trace.schedule.hosts(workload.hosts)
    held = workload.kind != WAIT  # host, block and native steps hold the loop
    last_move = float(trace.end[held].max()) if held.any() else 0.0
    blocked, switching = workload.block_time(), trace.switch_time
    idle = last_move * hosts - workload.host_work() - blocked - switching
    tail = makespan - last_move
    host = scenario.host.name
    player = scenario.players[0].name if len(scenario.players) == 1 else "player"
    host_work = workload.host_work() / hosts
    if estimate > host_work * (1 + 1e-9):  # sums in another order may differ in the last bit
        reasons = [f"the estimate is one game played alone ({format_seconds(estimate)})"]
    else:
        reasons = [f"the estimate counts only {host}'s moves ({format_seconds(host_work)})"]
    if blocked:
        reasons.append(
            f"blocking calls hold {host} for {format_seconds(blocked)}, "
            "during which no other game can run"
        )
    if switching:
        times = format_count(trace.switches)
        reasons.append(
            f"{host} spends {format_seconds(switching)} moving between games ({times} switches)"
        )
    if idle > 1e-9 * max(1.0, makespan):
        reasons.append(f"{host} sits idle for {format_seconds(idle)} with no {player} ready")
    if tail > 1e-9 * max(1.0, makespan):
        reasons.append(
            f"after {host}'s last move at {format_seconds(last_move)}, "
            f"the last {player} still takes {format_seconds(tail)} to answer it"
        )
    return (
        f"{trace.schedule.label}: {format_seconds(makespan)} is {format_seconds(over)} more "
        f"than the article's {format_seconds(estimate)} because " + "; ".join(reasons) + "."
    )


def busiest(trace: Trace) -> tuple[str, int, float] | None:
    """The resource held the largest share of its capacity under `trace`: its name,
    capacity and utilization (None when the scenario declares no resource or none was held).
    """
    workload = trace.workload
    if workload.shared is None or not workload.plan.resources:
        return None
    figures = shared.figures(trace)
    index = int(figures.utilization.argmax())  # the first of equals, in file order
    if not figures.utilization[index] > 0:
        return None
    return figures.names[index], figures.capacity[index], float(figures.utilization[index])


def fullest(trace: Trace) -> tuple[str, float, float, int] | None:
    """The queue that held the most items on average under `trace` among those some group
    serves: its name, mean and longest length, and the first group serving it (None when
    no served queue ever held an item)."""
    workload = trace.workload
    if workload.shared is None or len(workload.plan.names) == workload.plan.resources:
        return None
    figures, plan = shared.figures(trace), workload.plan
    served = [q for q in range(plan.resources, len(plan.names)) if q in plan.serves]
    if not served:
        return None
    queue = max(served, key=lambda q: figures.mean_length[q - plan.resources])  # first of equals
    mean = float(figures.mean_length[queue - plan.resources])
    if not mean > 0:
        return None
    longest = float(figures.max_length[queue - plan.resources])
    return plan.names[queue], mean, longest, plan.serves.index(queue)


def bottleneck(trace: Trace, raised: float | None) -> str | None:
    """How busy the busiest resource was under `trace`, and the makespan `raised` that
    the same workload had with that resource's capacity doubled (None: not played); with
    no resource, how full the fullest served queue was, and `raised` with twice the
    players of the group serving it."""
    found = busiest(trace)
    makespan = trace.makespan
    if found is not None:
        name, capacity, utilization = found
        text = f"the busiest resource, {name}, was busy {_percent(utilization)} of the time"
        change = f"raising its limit from {capacity} to {2 * capacity}"
    elif (queue := fullest(trace)) is not None:
        name, mean, longest, group = queue
        consumers = trace.workload.scenario.players[group]
        text = f"queue {name} held {mean:.3g} items on average (at most {longest:.0f})"
        change = f"doubling the {consumers.name} group that serves it from "
        change += f"{consumers.count} to {2 * consumers.count} players"
    else:
        return None
    if raised is not None:
        now, then = format_seconds(makespan), format_seconds(raised)
        if abs(raised - makespan) <= 1e-9 * max(1.0, makespan):
            text += f"; {change} would leave the makespan at {now}: {name} is not what "
            text += "holds the games back"
        elif raised < makespan:
            text += f"; {change} would take the makespan from {now} to {then} "
            text += f"({makespan / raised:.2f}× faster)"
        else:
            text += f"; {change} would make the makespan longer: {then} instead of {now}"
    under = f"under {trace.schedule.label}"
    if trace.workload.scenario.random:  # drawn durations: one replication's figures
        return f"In replication 1, {under}, {text}."
    return f"{under[0].upper()}{under[1:]}, {text}."


def _percent(share: float) -> str:
    return f"{share:.1%}".replace("%", " %")


def rewrites(result: Result) -> list[str]:
    """For a recorded program: which rewrite pays most against the program's own schedule
    (the scenario's first), and why, from where its steps' time goes. The program's own
    loop in another order (asyncio's, the tie rule's) is the same program, no rewrite."""
    scenario = result.scenario
    if not scenario.description.startswith(RECORDED) or len(result.traces) < 2:
        return []
    by_label = {trace.schedule.label: trace for trace in result.traces}
    own = by_label.get(scenario.schedules[0].label)
    if own is None or not own.makespan:
        return []
    others = [
        t
        for t in result.traces
        if t is not own and t.makespan and not _same_loop(t.schedule, own.schedule)
    ]
    best = min(others, key=lambda t: t.makespan, default=None)
    workload = own.workload
    timed = ("host", "wait", "native")
    seconds = {
        kind: float(workload.duration[workload.kind == code].sum())
        for code, kind in enumerate(STEP_KINDS)
        if kind in timed
    }
    total = sum(seconds.values()) or 1.0
    share = {kind: value / total for kind, value in seconds.items()}
    figures = f"{format_seconds(own.makespan)} as it is ({own.schedule.label})"
    if best is None or best.makespan >= own.makespan * (1 - 0.05):
        return [
            f"No rewrite pays: your program takes {figures}, and none of the rewrites is 5 % "
            f"faster; {_why_not(share, workload.hosts)}"
        ]
    speedup = own.makespan / best.makespan
    return [
        f"Of the rewrites, {best.schedule.label} pays most: {format_seconds(best.makespan)}, "
        f"{speedup:.1f}× faster than your program's {figures}; "
        f"{_why(best.schedule.kind, share, workload.hosts)}"
    ]


def _same_loop(one: Schedule, other: Schedule) -> bool:
    """Two cooperative schedules that differ in their order only: one program, two models."""
    if one.kind != "cooperative" or other.kind != "cooperative":
        return False
    return one.params.model_copy(update={"order": other.params.order}) == other.params


def _why(kind: str, share: dict[str, float], cpus: int) -> str:
    wait, host, native = share.get("wait", 0.0), share.get("host", 0.0), share.get("native", 0.0)
    if kind == "parallel":
        return (
            f"{_percent(host + native)} of the step time is CPU work, which {cpus} processes "
            "do side by side (threads would share one GIL for the Python part)."
        )
    if kind == "threaded" and native >= wait:
        return (
            f"{_percent(native)} of the step time is C code that releases the GIL, which "
            f"threads run on {cpus} CPUs at once."
        )
    return (
        f"{_percent(wait)} of the step time is blocking waits, which "
        + ("one event loop overlaps" if kind == "cooperative" else "threads overlap")
        + f", leaving the {_percent(host)} of Python on the CPU to be done one step at a time."
    )


def _why_not(share: dict[str, float], cpus: int) -> str:
    host = share.get("host", 0.0)
    if cpus < 2:
        return f"{_percent(host)} of the step time is Python on the CPU, and there is one CPU."
    return f"{_percent(host)} of the step time is Python on the CPU, one step at a time."
