"""`sim verify`: the engine against Python itself, on a fast-forwarded loop or for real."""

from __future__ import annotations

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
        typer.Option(help="With --real: divide every duration by this (> 0). [default: 100]"),
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
            help="With --real: exit 1 if a relative error exceeds this (0.1 = 10 %).", min=0
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
    `--scale`, and sets the median makespan × scale beside the engine's.

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
        scale = 100.0 if scale is None else scale
        _verify_real(loaded, schedule or [], scale, repeat or 3, replications, tolerance)
        return
    for option, value in {"--scale": scale, "--repeat": repeat, "--tolerance": tolerance}.items():
        if value is not None:
            bad_input(f"{option}: only with --real")
    _verify_virtual(loaded, schedule or [], tie_rule)


def _verify_virtual(scenario, names: list[str], tie_rule: bool) -> None:
    from sim.experiment.runs import workload_of
    from sim.verify import findings
    from sim.verify.compare import against_asyncio
    from sim.verify.virtual import REPLAYABLE

    chosen = pick(scenario, names) or list(scenario.schedules)
    workload = workload_of(scenario)  # random durations: those of replication 1
    rows = against_asyncio(workload, chosen, tie_rule)
    skipped = [s.label for s in chosen if s.kind not in REPLAYABLE]
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


def _verify_real(scenario, names, scale, repeat, replications, tolerance) -> None:
    from sim.experiment.runs import workload_of
    from sim.verify import findings
    from sim.verify.wallclock import check, models_of

    try:
        models = models_of(scenario, names)
    except ValueError as error:
        bad_input(f"--schedule: {error}")

    def progress(model, number, run) -> None:
        seconds = findings.figure(run.makespan)
        err.print(f"{model.label}: run {number}/{repeat} took {seconds} s", markup=False)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    rows = check(workload_of(scenario), models, scale, repeat, replications, progress)
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
        if off:
            raise typer.Exit(EXIT_CHECK_FAILED)
