"""What `sim verify` shows: its two tables and the sentences under them.

Builds rich tables and plain sentences; `sim.cli` prints them.
"""

from __future__ import annotations

import math

from rich.table import Table

from sim.engine.deadlock import Deadlock
from sim.experiment.executors import cores
from sim.scenario.model import Scenario
from sim.scenario.units import format_count, format_seconds
from sim.verify.compare import Agreement, Deadlocked
from sim.verify.wallclock import RealRow

__all__ = [
    "agreement_table",
    "deadlock_notes",
    "disagreements",
    "duration",
    "figure",
    "order_notes",
    "real_notes",
    "real_table",
    "verdict",
]


Row = Agreement | Deadlocked


def agreement_table(
    scenario: Scenario, rows: list[Row], skipped: list[tuple[str, str]], tie_rule: bool = False
) -> Table:
    """schedule, engine, asyncio, difference, games that end at the same instant.

    Where games differed and were replayed with the tie rule imposed, the count
    agreeing then follows, so the table shows at once how much the order explains.
    A side that deadlocked shows when; the last cell then says whether both
    deadlocked alike (the same instant, the same tasks waiting).
    """
    how = _by_the_rule(scenario.shares) if tie_rule else "virtual time"
    table = Table(title=f"{scenario.name}: the engine against asyncio's loop ({how})")
    for column in ("schedule", "engine", "asyncio", "difference", "games agreeing"):
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for row in rows:
        cell = _agreeing(scenario, row)
        if not row.agrees:
            cell = f"[{'yellow' if row.passes else 'red'}]{cell}[/]"
        if row.settled is not None:
            cell += f", {_agreeing(scenario, row.settled)} by the tie rule"
        engine, other = _outcomes(row)
        table.add_row(row.label, _ending(engine), _ending(other), _difference(row), cell)
    for label, why in skipped:  # (label, why it is not replayed)
        table.add_row(label, "", "", "", why)
    return table


def _outcomes(row: Row) -> tuple[float | Deadlock, float | Deadlock]:
    """Each side's makespan, or its deadlock."""
    if isinstance(row, Agreement):
        return row.engine_makespan, row.other_makespan
    sides = (row.engine, row.other)
    return tuple(side if isinstance(side, Deadlock) else side.makespan for side in sides)  # type: ignore[return-value]


def _ending(outcome: float | Deadlock) -> str:
    if isinstance(outcome, Deadlock):
        return f"deadlock at {format_seconds(outcome.at)}"
    return format_seconds(outcome)


def _difference(row: Row) -> str:
    if isinstance(row, Agreement):
        return signed(row.difference)
    engine, other = _outcomes(row)
    if isinstance(engine, Deadlock) and isinstance(other, Deadlock):
        return signed(other.at - engine.at)
    return "—"


def _agreeing(scenario: Scenario, row: Row) -> str:
    """`24/24`, or for a deadlock `same deadlock` / `another deadlock` / `one deadlocks`."""
    if isinstance(row, Agreement):
        games = scenario.games
        return f"{games - len(row.differing_games)}/{games}"
    if row.agrees:
        return "same deadlock"
    return "another deadlock" if row.same_instant else "one side deadlocks"


def disagreements(scenario: Scenario, rows: list[Row]) -> list[str]:
    """One sentence per schedule that fails: the first game, where it diverges, and why.

    A schedule whose games differ only in the order of same-instant requests
    passes (`Agreement.passes`) and is told by `order_notes` instead.
    """
    sentences = []
    for row in rows:
        if row.passes:
            continue
        if isinstance(row, Deadlocked):
            sentences.append(_deadlock_difference(row))
            continue
        game = row.first_game
        if game is None:  # only the makespans differ: cannot happen with equal game ends
            sentences.append(f"{row.label}: the makespans differ by {signed(row.difference)}")
            continue
        text = f"{row.label}: first differing game {_first_game(row)}"
        split = row.divergence
        if split is not None:
            text += (
                f"; the two part at {format_seconds(min(split.engine_start, split.other_start))}, "
                f"where {split.player}'s move {split.move} step {split.step} starts at "
                f"{format_seconds(split.engine_start)} in the engine, "
                f"{format_seconds(split.other_start)} on asyncio"
            )
        if len(row.ties):
            text += f"; {_ties(row)}"
        if row.settled is not None:
            if not row.settled.agrees:
                text += "; with the tie rule imposed on asyncio (--tie-rule) it still differs"
            else:  # every game agrees then, but asyncio's own order changed the makespan
                text += (
                    "; with the tie rule imposed on asyncio (--tie-rule) every game agrees, "
                    f"but in asyncio's own order the makespan differs by {signed(row.difference)}"
                )
        sentences.append(text)
    return sentences


def order_notes(scenario: Scenario, rows: list[Row]) -> list[str]:
    """One sentence per schedule that passes although games differ: order alone explains it.

    Said plainly, so that differing games under exit status 0 are not read as
    the engine being wrong, nor ignored.
    """
    sentences = []
    for row in rows:
        if not row.order_only:
            continue
        if isinstance(row, Deadlocked):
            sentences.append(
                f"{row.label}: both deadlock at {format_seconds(row.engine.at)} "  # type: ignore[union-attr]
                "but other tasks are left waiting on asyncio, only because asyncio serves "
                "same-instant requests in another order: with the tie rule imposed on "
                "asyncio (--tie-rule) the same tasks wait (docs/explanation/tie-rule.md)"
            )
            continue
        games, differing = scenario.games, len(row.differing_games)
        text = (
            f"{row.label}: {differing} of {games} games end at another instant on asyncio "
            f"(first {_first_game(row)}) only because asyncio serves same-instant requests "
            "in another order"
        )
        text += f"; {_ties(row)}" if len(row.ties) else " (docs/explanation/tie-rule.md)"
        text += (
            f". The makespan is the same ({format_seconds(row.engine_makespan)}), and with "
            "the tie rule imposed on asyncio (--tie-rule) every game agrees: the order of "
            "same-instant requests is the whole difference"
        )
        sentences.append(text)
    return sentences


def deadlock_notes(rows: list[Row]) -> list[str]:
    """One sentence per schedule under which both sides deadlock alike: when, and who waits.

    A scenario whose games need each other may have no way through a
    schedule (a producer filling a bounded queue before a single host lets
    any consumer run); that both deadlock alike is an agreement, said so.
    """
    sentences = []
    for row in rows:
        if isinstance(row, Deadlocked) and row.agrees:
            deadlock = row.engine
            assert isinstance(deadlock, Deadlock)
            sentences.append(
                f"{row.label}: the engine and asyncio both deadlock at "
                f"{format_seconds(deadlock.at)}, the same {_tasks(len(deadlock.waits))} "
                f"waiting ({_waits(deadlock)})"
            )
    return sentences


def verdict(rows: list[Row], tie_rule: bool = False, shares: bool = False) -> str | None:
    """The last line when every schedule passes; None when there is nothing to say."""
    if not rows or not all(row.passes for row in rows):
        return None
    alike = (
        ", and where one deadlocks so does the other, alike"
        if any(isinstance(row, Deadlocked) for row in rows)
        else ""
    )
    if any(row.order_only for row in rows):
        return (
            "the engine agrees with asyncio: every makespan to 1e-9 s, and every game's end "
            f"once same-instant requests are served by the tie rule{alike}"
        )
    how = f" ({_by_the_rule(shares)})" if tie_rule else ""
    return (
        f"every game ends at the same instant, to 1e-9 s, in the engine and on asyncio{how}{alike}"
    )


def _by_the_rule(shares: bool) -> str:
    return "hosts, resources and queues by the tie rule" if shares else "hosts by the tie rule"


def _deadlock_difference(row: Deadlocked) -> str:
    """A failing deadlock row, in one sentence."""
    sides = []
    for who, side in (("the engine", row.engine), ("asyncio", row.other)):
        if isinstance(side, Deadlock):
            sides.append(f"{who} deadlocks at {format_seconds(side.at)} ({_waits(side)})")
        else:
            sides.append(f"{who} ends every game, at {format_seconds(side.makespan)}")
    text = f"{row.label}: {sides[0]}; {sides[1]}"
    if row.settled is not None:
        text += (
            "; with the tie rule imposed on asyncio (--tie-rule) they agree"
            if row.settled.agrees
            else "; with the tie rule imposed on asyncio (--tie-rule) they still differ"
        )
    return text


def _waits(deadlock: Deadlock, shown: int = 3) -> str:
    """The first waits of a deadlock report, and how many more."""
    text = "; ".join(deadlock.waits[:shown])
    more = len(deadlock.waits) - shown
    return text + (f"; and {more} more" if more > 0 else "")


def _tasks(count: int) -> str:
    return "task" if count == 1 else f"{count} tasks"


def _first_game(row: Agreement) -> str:
    """`a: it ends at 6 s in the engine, 7 s on asyncio`: the first differing game."""
    game = row.first_game
    player = row.engine.workload.players[game]
    engine_end = float(row.engine.game_ends()[game])
    other_end = float(row.other.game_ends()[game])
    return (
        f"{player}: it ends at {format_seconds(engine_end)} in the engine, "
        f"{format_seconds(other_end)} on asyncio"
    )


def _ties(row: Agreement) -> str:
    """The same-instant ties found, and why they matter."""
    first = format_seconds(float(row.ties[0]))
    count = (
        f"a same-instant tie at {first}"
        if len(row.ties) == 1
        else f"{len(row.ties)} same-instant ties, the first at {first}"
    )
    return (
        f"{count}: asyncio serves games asking at one instant in the order their tasks "
        "resume, the engine in file order (docs/explanation/tie-rule.md)"
    )


def real_table(scenario: Scenario, rows: list[RealRow]) -> Table:
    """model, median real makespan × scale, range of runs, simulated, error, CPU wait."""
    scale = rows[0].scale if rows else 1.0
    title = f"{scenario.name}: played for real, durations ÷ {figure(scale)}"
    table = Table(title=title)
    spread = any(len(row.runs) > 1 for row in rows)
    columns = ["model", "real × scale", "runs", "simulated", "error", "CPU wait"]
    if not spread:
        columns.remove("runs")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        spans = row.makespans
        cells = [
            row.model.label,
            f"{figure(row.measured)} s" if spans else "not played",
            f"{figure(min(spans))}–{figure(max(spans))} s" if spans else "—",
            "—" if row.simulated is None else f"{figure(row.simulated)} s",
            "" if row.error is None else f"{row.error:+.1%}".replace("%", " %"),
            "" if math.isnan(row.cpu_wait) else f"{figure(round(row.cpu_wait, 3))} s",
        ]
        if not spread:
            del cells[2]
        table.add_row(*cells)
    return table


def real_notes(
    scenario: Scenario, rows: list[RealRow], switch_interval: float, load: tuple[float, ...]
) -> list[str]:
    """How the figures were taken, so a reader can judge them."""
    if not rows:
        return []
    scale, repeat = rows[0].scale, max(len(row.runs) for row in rows)
    native = " (native steps in C, hashlib without the GIL)" if "native" in scenario.kinds else ""
    notes = [
        f"real × scale: the median of {repeat} run(s), each makespan × {figure(scale)}; "
        f"host steps are CPU work timed by the thread's own CPU clock{native}, waits and "
        "blocks sleep",
        f"simulated with the real durations; CPython's switch interval is "
        f"{duration(switch_interval)} in the scaled run, so threaded schedules are "
        f"simulated with {duration(switch_interval * scale)}; process pools are started "
        "before the clock (start cost 0)",
        (f"load average {', '.join(f'{x:.2f}' for x in load)} on " if load else "")
        + f"{cores()} CPUs; 'CPU wait' (× scale, summed over threads and workers) is "
        "time the run was ready but other work on the machine had the CPUs: it lengthens "
        "real runs",
    ]
    switch_cost = getattr(scenario.host, "switch_cost", 0.0)
    if switch_cost:
        notes.append(
            f"host.switch_cost {format_seconds(switch_cost)} is simulated as 0: a real run "
            "moves from one game to another in microseconds"
        )
    cpus = cores()
    if scenario.host.count > cpus:
        notes.append(
            f"the scenario has {scenario.host.count} hosts but this machine {cpus} CPUs: "
            f"real processes share them, so it is simulated with {cpus} hosts"
        )
    for row in rows:
        if row.unplayed is not None:
            notes.append(f"{row.model.label}: {row.unplayed}")
        elif row.simulated is None:
            notes.append(f"{row.model.label}: the engine has no such schedule yet")
        notes.extend(row.model.notes())
    return notes


def duration(seconds: float) -> str:
    """`5 ms`, `500 ms`, `5 s`: a short duration in the unit a person would use."""
    return f"{figure(seconds * 1e3)} ms" if seconds < 1 else f"{figure(seconds)} s"


def signed(seconds: float) -> str:
    """A difference: `0 s`, `+5 s`, `−2.5e-12 s` (tiny ones in powers of ten)."""
    if seconds == 0:
        return "0 s"
    sign = "+" if seconds > 0 else "−"
    size = abs(seconds)
    text = f"{size:.1e}" if size < 1e-3 else format_seconds(size)[:-2]
    return f"{sign}{text} s"


def figure(value: float) -> str:
    """Four significant figures, thousands grouped: `3 744`, `12.35`, `0.4152`, `1.08`."""
    if not math.isfinite(value):
        return "—"
    if value == round(value):
        return format_count(round(value))
    decimals = max(0, 3 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ")
