"""What `sim run --analytic-only` prints: the closed forms, without playing anything.

For what-ifs too big to simulate (ten million players): the figures come from
`sim.results.closed_forms` in microseconds, whatever the size. Kept apart from
`sim.results.console_tables` so that this path imports neither the engine nor pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from sim.results import closed_forms
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count, format_hms, format_seconds

__all__ = ["analytic_notes", "analytic_table"]


def analytic_table(scenario: Scenario, schedules: Sequence[Schedule] | None = None) -> Table:
    """One row per schedule: the exact formula's makespan, its speedup, the article's estimate."""
    chosen = scenario.schedules if schedules is None else schedules
    baseline = closed_forms.closed_form(scenario, "synchronous")
    title = f"{scenario.name}: closed forms, {format_count(scenario.games)} games"
    table = Table(title=escape(title))  # a name is text, never markup
    for column in ("schedule", "formula", "h:mm:ss", "speedup", "article"):
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for schedule in chosen:
        exact = closed_forms.closed_form(scenario, schedule)
        table.add_row(
            schedule.label,
            "—" if exact is None else format_seconds(exact),
            "—" if exact is None else format_hms(exact),
            f"{baseline / exact:.2f}×" if exact and baseline is not None else "—",
            format_seconds(closed_forms.article_estimate(scenario, schedule)),
        )
    return table


def analytic_notes(scenario: Scenario, schedules: Sequence[Schedule] | None = None) -> list[str]:
    """Say which schedules have no closed form here, and what to do about it."""
    chosen = scenario.schedules if schedules is None else schedules
    shape = closed_forms.shape(scenario)
    reasons: dict[str, list[str]] = {}
    for schedule in chosen:
        if closed_forms.closed_form(scenario, schedule) is None:
            reasons.setdefault(_why(scenario, schedule, shape), []).append(schedule.label)
    return [
        f"{', '.join(labels)}: no closed form for this scenario, as {why}; "
        "run without --analytic-only to simulate it."
        for why, labels in reasons.items()
    ]


def _why(scenario: Scenario, schedule: Schedule, shape: closed_forms.Shape | None) -> str:
    if scenario.shares:
        return "its games wait for one another (resources, queues or gathers)"
    if schedule.cooperative is not None and schedule.cooperative.order == "asyncio":
        return "asyncio's loop orders its tasks iteration by iteration"
    if shape is None:
        return "its groups differ (a closed form needs one round shape, a host step then a wait)"
    if schedule.threaded is not None:
        return "threads wait for the GIL in an order the OS draws"
    if schedule.parallel is not None:
        return "more processes than CPUs share them"
    if shape.switch_cost:
        return f"with a switch cost, {shape.hosts} hosts pass games between them"
    return f"{shape.hosts} hosts do not divide {format_count(shape.n)} games"
