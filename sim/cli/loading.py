"""From what the command line names to a checked scenario and the schedules to play.

Everything here refuses bad input before any work: a file that does not
validate, an unknown schedule, a run over the event budget.
"""

from __future__ import annotations

from sim.cli.console import bad_input, checked
from sim.cli.numpy_import import import_numpy
from sim.scenario.errors import one_line
from sim.scenario.limits import Limits

__all__ = ["check_budget", "given", "pick", "read"]


def read(
    scenario: str,
    sets: list[str] | None,
    limits: Limits | None = None,
    exit_on_error: bool = True,
):  # -> (Document, list[Override]), imported lazily
    """The scenario's document (read within `limits`) and the parsed `--set` overrides.

    A problem exits 2; with `exit_on_error=False` its ScenarioError is raised instead.
    """
    import_numpy()  # the scenario models import it: here first, as `numpy_import` sets it
    from sim.scenario.catalog import find
    from sim.scenario.loader import read_file
    from sim.scenario.overrides import parse

    def document_and_overrides():
        return read_file(find(scenario), limits), [parse(text) for text in sets or []]

    return checked(document_and_overrides) if exit_on_error else document_and_overrides()


def given(seed: int | None, replications: int | None) -> list:
    """`--seed` and `--replications` as overrides: after `--set`, before a sweep's values."""
    from sim.scenario.overrides import Override

    values = {"seed": seed, "replications": replications}
    return [Override(key, value, f"--{key}") for key, value in values.items() if value is not None]


def check_budget(document, scenario, schedules: list | None, max_events: int | float) -> None:
    """Refuse, before playing, a run over the event budget (replications included)."""
    checked(lambda: document.refuse_over_budget(scenario, max_events, schedules))


def pick(scenario, names: list[str]) -> list | None:
    """Schedules named on the command line: a label from the file, a kind by name, or a
    schedule written out, as the tables label it or as a file writes it."""
    from sim.scenario.loader import schedule_from_text
    from sim.scenario.schedules import SCHEDULE_KINDS, Schedule, written_out

    if not names:
        return None
    own = {schedule.label: schedule for schedule in scenario.schedules}
    chosen = []
    for name in names:
        if name in own:
            chosen.append(own[name])
        elif name in SCHEDULE_KINDS:
            chosen.append(Schedule.of(name))
        elif written_out(name):
            chosen.append(checked(lambda name=name: schedule_from_text(scenario, name)))
        else:
            expected = ", ".join(dict.fromkeys([*own, *SCHEDULE_KINDS]))
            message = (
                f"--schedule: unknown schedule {name!r}; expected one of: {expected}; or one "
                "written out as the tables label it, e.g. 'cooperative(order=asyncio)'"
            )
            bad_input(one_line(message))
    return chosen
