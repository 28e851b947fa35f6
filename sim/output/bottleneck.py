"""The bottleneck of a run whose games share resources or queues, and what doubling it does.

`sim.results.explanations.busiest` finds the resource held the largest share
of its capacity (`fullest`, where no resource is declared, the served queue
that held the most items); here the scenario is played again, under the same
schedule and on the same draws, with that resource's capacity doubled (with
twice the players serving that queue), so the sentence gives a makespan that
was played, not one guessed from the figures.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sim.engine.deadlock import Deadlock
from sim.engine.trace import Trace
from sim.experiment.runs import play_schedule, workload_of
from sim.results import explanations
from sim.results.result import Result
from sim.scenario.errors import ScenarioError
from sim.scenario.model import Scenario
from sim.scenario.with_values import with_values

__all__ = ["bottleneck_note"]

_NOTES: WeakKeyDictionary[Result, str | None] = WeakKeyDictionary()


def bottleneck_note(result: Result) -> str | None:
    """How busy the busiest resource was under cooperative (else the first schedule
    played), and the makespan replication 1 has with its capacity doubled; None when the
    scenario declares no resource. Played once per result: `sim report` prints the
    sentence and puts it on the page."""
    if result in _NOTES:
        return _NOTES[result]
    traces = result.traces
    trace = next((t for t in traces if t.schedule.kind == "cooperative"), None)
    trace = trace or (traces[0] if traces else None)
    note = None
    if trace is not None and (doubled := _doubled(result.scenario, trace)) is not None:
        raised: float | None = None
        try:  # one schedule only: `run` would play synchronous as well, for speedups
            workload = workload_of(doubled, result.seed, 0)
            raised = play_schedule(workload, trace.schedule, result.seed).makespan
        except (Deadlock, ScenarioError):  # no figure to give: say how busy it was only
            raised = None
        note = explanations.bottleneck(trace, raised)
    _NOTES[result] = note
    return note


def _doubled(scenario: Scenario, trace: Trace) -> Scenario | None:
    """The scenario with its bottleneck doubled: the busiest resource's capacity, or else
    the players of the group serving the fullest queue; None when there is neither."""
    if (found := explanations.busiest(trace)) is not None:
        name, capacity, _utilization = found
        # the whole mapping: a name may hold a dot, which a path would split
        section = "executors" if name in scenario.executors else "resources"
        limits = getattr(scenario, section)
        return with_values(scenario, {section: {**limits, name: 2 * capacity}})
    if (queue := explanations.fullest(trace)) is not None:
        group = queue[3]
        players = list(scenario.players)
        players[group] = players[group].model_copy(update={"count": 2 * players[group].count})
        return scenario.model_copy(update={"players": tuple(players)})
    return None
