"""`sim verify`: the engine against Python itself, on a fast-forwarded loop or for real."""

from __future__ import annotations

import math
import os
import sys
from typing import Annotated

import typer

from sim.cli.console import EXIT_CHECK_FAILED, bad_input, checked, err, out
from sim.cli.loading import check_budget, given, pick, read
from sim.cli.options import ScenarioName, Seed, Sets
from sim.scenario.limits import Limits

__all__ = ["verify"]


def verify(
    scenario: ScenarioName,
    schedule: Annotated[
        list[str] | None,
        typer.Option("--schedule", help="Check only this schedule or model (repeatable)."),
    ] = None,
    tie_rule: Annotated[
        bool,
        typer.Option(
            "--tie-rule",
            help="Serve asyncio's hosts (and resources and queues) by the tie rule, "
            "not in the order asyncio's primitives are called.",
        ),
    ] = False,
    real: Annotated[
        bool, typer.Option("--real", help="Play for real on the wall clock instead.")
    ] = False,
    scale: Annotated[
        float | None,
        typer.Option(
            help="With --real: divide every duration by this (> 0). [default: the smallest "
            "that keeps the real runs to about 20 s, at least 1]"
        ),
    ] = None,
    repeat: Annotated[
        int | None,
        typer.Option(help="With --real: runs per model; the median counts. [default: 3]", min=1),
    ] = None,
    replications: Annotated[
        int,
        typer.Option(help="With --real: engine runs averaged for schedules with chance.", min=1),
    ] = 20,
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="With --real: exit 1 if a relative error exceeds this (0.1 = 10 %), or if "
            "most steps are shorter than a real run can time.",
            min=0,
        ),
    ] = None,
    max_time: Annotated[
        str | None,
        typer.Option(
            "--max-time",
            metavar="DURATION",
            help="With --real: refuse, before playing, real runs estimated to take longer "
            "than this (all models and repeats). [default: 10min]",
        ),
    ] = None,
    sets: Sets = None,
    seed: Seed = None,
) -> None:
    """Check the engine against Python itself.

    Without `--real`: plays the games as coroutines on a real asyncio loop whose
    clock is fast-forwarded (looptime) and compares every game's end with the
    engine's, exactly (to 1e-9 s). Games that differ only in the order of
    same-instant requests (the makespan agrees, and every game does with the
    tie rule imposed) pass, and it says so; any other difference exits 1,
    naming the first differing game. Games that share resources, queues and
    fan-out use asyncio.Semaphore, asyncio.Queue and asyncio.gather; a
    schedule under which both sides deadlock alike (same instant, same tasks
    waiting) agrees.

    With `--real`: plays the scenario for real in each execution model
    (synchronous, cooperative, threaded, parallel), every duration divided by
    `--scale`, and sets the median makespan × scale beside the engine's. Without
    `--scale`, the smallest scale that keeps the real runs to about 20 s in all
    (never below 1). Real runs estimated to take longer than `--max-time` are
    refused before they start; a scale that leaves most steps shorter than a real
    run can time (100 µs of CPU work, 2 ms of sleep) is warned of.

    Examples:

        sim verify polgar

        sim verify countasync --schedule cooperative --tie-rule

        sim verify countasync --real --scale 10 --repeat 5

        sim verify polgar --real --scale 1000 --schedule cooperative --tolerance 0.1

        sim verify polgar --set players.amateur.count=48 --set host.count=2

    Random durations are replication 1's draws (of `--seed`), the same on both sides.
    """
    document, overrides = read(scenario, sets)
    loaded = checked(lambda: document.scenario([*overrides, *given(seed, None)]))
    check_budget(document, loaded, None, Limits().max_events)
    if real:
        if tie_rule:
            bad_input("--tie-rule: only without --real")
        if scale is not None and not 0 < scale < float("inf"):
            bad_input(f"--scale: expected a number > 0, got {scale:g}")
        limit = _max_time(max_time)
        _verify_real(loaded, schedule or [], scale, repeat or 3, replications, tolerance, limit)
        return
    real_only = {"--scale": scale, "--repeat": repeat, "--tolerance": tolerance,
                 "--max-time": max_time}  # fmt: skip
    for option, value in real_only.items():
        if value is not None:
            bad_input(f"{option}: only with --real")
    _verify_virtual(loaded, schedule or [], tie_rule)


def _verify_virtual(scenario, names: list[str], tie_rule: bool) -> None:
    from sim.experiment.runs import workload_of
    from sim.verify import findings
    from sim.verify.compare import against_asyncio
    from sim.verify.virtual import not_replayed

    chosen = pick(scenario, names) or list(scenario.schedules)
    workload = workload_of(scenario)  # random durations: those of replication 1
    rows = against_asyncio(workload, chosen, tie_rule)
    skipped = [(s.label, why) for s in chosen if (why := not_replayed(s)) is not None]
    out.print(findings.agreement_table(scenario, rows, skipped, tie_rule))
    for sentence in findings.order_notes(scenario, rows) + findings.deadlock_notes(rows):
        out.print(sentence, markup=False)
    problems = findings.disagreements(scenario, rows)
    for sentence in problems:
        err.print(sentence, markup=False)
    if problems:
        raise typer.Exit(EXIT_CHECK_FAILED)
    line = findings.verdict(rows, tie_rule, scenario.shares)
    if line is not None:
        out.print(line, markup=False)


def _max_time(text: str | None) -> float:
    """`--max-time` in seconds (default `MAX_REAL_S`)."""
    from sim.scenario.units import parse_duration
    from sim.verify.wallclock import MAX_REAL_S

    if text is None:
        return MAX_REAL_S
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        bad_input(f"--max-time: {error}")
    if seconds <= 0:
        bad_input(f"--max-time: expected a duration > 0, like 10min or 1h, got {text!r}")
    return seconds


def _verify_real(scenario, names, scale, repeat, replications, tolerance, limit) -> None:
    from sim.experiment.runs import workload_of
    from sim.verify import findings
    from sim.verify.wallclock import (
        AUTO_SECONDS,
        auto_scale,
        check,
        models_of,
        real_seconds,
        short_steps,
    )

    try:
        models = checked(lambda: models_of(scenario, names))
    except ValueError as error:
        bad_input(f"--schedule: {error}")
    workload = workload_of(scenario)
    if scale is None:
        scale = checked(lambda: auto_scale(workload, models, repeat))
        err.print(
            f"--scale {scale:g}: the smallest that keeps the real runs to about "
            f"{AUTO_SECONDS:g} s in all (--scale chooses another)",
            markup=False,
        )
    estimate = checked(lambda: real_seconds(workload, models, scale, repeat))
    if estimate > limit:
        least = scale * (estimate / limit)  # the estimate goes as 1 / scale
        larger = (
            f"--scale {_rounded_up(least)} or more" if math.isfinite(least) else "a larger --scale"
        )
        bad_input(
            f"--scale {scale:g}: the real runs would take {_spoken(estimate)} "
            f"({len(models)} model(s) × {repeat} run(s), from the engine's makespans ÷ "
            f"{scale:g}), over the limit of {_limit(limit)}; give {larger}, fewer "
            "--schedule or --repeat, or a longer --max-time"
        )
    short = short_steps(workload, scale)
    if short.too_many:
        err.print(_short_warning(short, scale), markup=False)

    def progress(model, number, run) -> None:
        seconds = findings.figure(run.makespan)
        err.print(f"{model.label}: run {number}/{repeat} took {seconds} s", markup=False)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    rows = checked(lambda: check(workload, models, scale, repeat, replications, progress))
    out.print(findings.real_table(scenario, rows))
    for note in findings.real_notes(scenario, rows, sys.getswitchinterval(), load):
        out.print(note, markup=False)
    if tolerance is not None:
        off = [row for row in rows if row.error is not None and abs(row.error) > tolerance]
        for row in off:
            err.print(
                f"{row.model.label}: real {findings.figure(row.measured)} s is "
                f"{row.error:+.1%} off the simulated {findings.figure(row.simulated)} s "
                f"(tolerance {tolerance:.1%})",
                markup=False,
            )
        if short.too_many:
            err.print(
                f"--tolerance {tolerance:g}: not met: {short.short} of {short.timed} steps "
                "were shorter than this machine times faithfully, so the errors cannot be "
                "trusted",
                markup=False,
            )
        if off or short.too_many:
            raise typer.Exit(EXIT_CHECK_FAILED)


def _short_warning(short, scale: float) -> str:
    """Most steps, divided by the scale, shorter than a real run times faithfully."""
    from sim.verify.wallclock import SHORTEST_STEP

    return (
        f"warning: {short.short} of {short.timed} steps are shorter, divided by --scale "
        f"{scale:g}, than a real run times to within 10 % ({_short(SHORTEST_STEP['host'])} "
        f"of CPU work, {_short(SHORTEST_STEP['wait'])} of sleep; the shortest is "
        f"{_short(short.shortest)}): the errors will measure the "
        f"timer more than the model; --scale {_rounded_down(short.largest_scale)} or less "
        "times most steps faithfully"
    )


def _short(seconds: float) -> str:
    """`10 µs`, `2 ms`, `1.5 s`."""
    from sim.verify.findings import duration, figure

    return f"{figure(seconds * 1e6)} µs" if seconds < 1e-3 else duration(seconds)


def _spoken(seconds: float) -> str:
    """`about 45 s`, `about 12 min`, `about 9 days`, `about 8 900 years`, `for ever`: an
    estimate a person reads at once."""
    from sim.scenario.units import format_count

    if not math.isfinite(seconds):
        return "for ever"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"about {format_count(round(value)) if value >= 10 else f'{value:.2g}'} {unit}"
    return f"about {seconds:.3g} s"


def _limit(seconds: float) -> str:
    return _spoken(seconds).removeprefix("about ")


def _rounded_up(scale: float) -> str:
    """A scale to suggest as a floor: two significant figures, rounded up."""
    return f"{_two_figures(scale, math.ceil):g}"


def _rounded_down(scale: float) -> str:
    """A scale to suggest as a ceiling: two significant figures, rounded down."""
    return f"{_two_figures(scale, math.floor):g}"


def _two_figures(value: float, rounding) -> float:
    step = 10 ** (math.floor(math.log10(value)) - 1)
    return rounding(value / step) * step
