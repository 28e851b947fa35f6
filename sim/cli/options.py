"""The options several commands take, declared once.

Each is a typer annotation; those that `run`, `report` and `sweep` share
(the scenario among them) arrive together as one `PlayOptions`, which also
does what the three do alike with them: read the scenario within the limits,
pick the schedules, find the folder, start the workers.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from sim.cli import loading, writing
from sim.cli.console import checked
from sim.cli.numpy_import import import_numpy
from sim.cli.workers import workers
from sim.scenario.limits import Limits, parse_count, parse_size

__all__ = [
    "EVENTS_DEFAULT",
    "FILE_SIZE_DEFAULT",
    "MaxEvents",
    "MaxFileSize",
    "NoPlots",
    "PlayOptions",
    "Read",
    "ScenarioName",
    "Seed",
    "Sets",
    "play_options",
]

ScenarioName = Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")]
MaxEvents = Annotated[
    int,
    typer.Option(
        "--max-events",
        parser=parse_count,
        metavar="N",
        envvar="SIM_MAX_EVENTS",
        help="Refuse to play more step events than this, over all schedules, replications "
        "and points (1e9, 10**9 work).",
    ),
]
MaxFileSize = Annotated[
    int,
    typer.Option(
        "--max-file-size",
        parser=parse_size,
        metavar="SIZE",
        envvar="SIM_MAX_FILE_SIZE",
        help="Refuse scenario files larger than this (1MB, 500kB, 2000000).",
    ),
]
#: Defaults of the two, as text: `--help` shows them so, and the parsers read them.
EVENTS_DEFAULT = "1e8"
FILE_SIZE_DEFAULT = "1MB"

Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Change a scenario field without editing the file (repeatable): "
        "`players.amateur.count=48`, `host.count=2`, `unit=min`, `host_move=1` (every group).",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        min=0,
        help="Seed of every random stream (default: the file's `seed`).",
        show_default=False,
    ),
]
Replications = Annotated[
    int | None,
    typer.Option(
        "--replications",
        "-r",
        min=1,
        show_default=False,
        help="Play each point this many times on independent streams "
        "(default: the file's `replications`, else 1).",
    ),
]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        show_default=False,
        help="Processes to play replications and points on (default: all cores; "
        "1 plays them in this process).",
    ),
]
Dask = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS|local",
        show_default=False,
        help="Play on a Dask cluster: a scheduler address (tcp://host:8786), or `local` "
        "for a LocalCluster of --jobs workers.",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar (there is none when piped anyway).")
]
OutDir = Annotated[  # text, not a Path: Path("") is ".", and `--out ""` must be refused
    str | None,
    typer.Option(
        "--out",
        metavar="DIR",
        help="Write the files straight into this folder.",
        show_default=False,
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace files of the names the run writes that sim did not write (or that "
        "changed since). Other files of the folder are never touched.",
    ),
]
Schedules = Annotated[
    list[str] | None,
    typer.Option(
        "--schedule",
        help="Play only this schedule (repeatable): a kind, or a label as the tables print "
        "one, e.g. 'threaded(threads=8)' or 'cooperative(order=asyncio)'.",
    ),
]
NoPlots = Annotated[
    bool, typer.Option("--no-plots", help="Draw no pictures (timeline.png, sweep.png): faster.")
]


@dataclass(frozen=True, slots=True)
class Read:
    """A scenario as the command line asks for it: its document (lines for messages),
    the `--set` overrides, those plus `--seed`/`--replications`, and the scenario."""

    document: Any  # sim.scenario.loader.Document, imported lazily
    overrides: list
    given: list
    scenario: Any  # sim.scenario.model.Scenario, imported lazily

    @property
    def applied(self) -> str:
        """The `--set` overrides as the user wrote them, `; ` between them."""
        return "; ".join(override.text for override in self.overrides)


@dataclass(frozen=True, slots=True)
class PlayOptions:
    """What `run`, `report` and `sweep` take alike, and what they do alike with it.

    The fields are the commands' argument and options in `--help`'s order: the
    scenario first, the limits last, the others where the command's `options`
    parameter stands (see `play_options`).
    """

    scenario: ScenarioName
    out_dir: OutDir = None
    force: Force = False
    schedule: Schedules = None
    sets: Sets = None
    seed: Seed = None
    replications: Replications = None
    jobs: Jobs = None
    dask: Dask = None
    quiet: Quiet = False
    max_events: MaxEvents = EVENTS_DEFAULT  # type: ignore[assignment]  # parsed
    max_file_size: MaxFileSize = FILE_SIZE_DEFAULT  # type: ignore[assignment]  # parsed
    started: float = field(default_factory=time.time, init=False)  # for run.json

    @property
    def limits(self) -> Limits:
        return Limits(max_file_bytes=self.max_file_size, max_events=self.max_events)

    def read(self) -> Read:
        """The scenario with `--set`, `--seed` and `--replications`; exit 2 on a problem."""
        document, overrides = loading.read(self.scenario, self.sets, self.limits)
        given = [*overrides, *loading.given(self.seed, self.replications)]
        return Read(document, overrides, given, checked(lambda: document.scenario(given)))

    def again(self) -> PlayOptions:
        """The same options for another run: its own start time (run.json's)."""
        return replace(self)

    def pick(self, scenario) -> list | None:
        """The `--schedule`s of `scenario` (None: all of the file's)."""
        return loading.pick(scenario, self.schedule or [])

    def target(self, name: str, writes: Sequence[str] = ()) -> Path:
        """The folder to write: `--out`, else `results/<name>`; exit 2 if it cannot be, or
        if it holds files named in `writes` that sim did not write (unless `--force`)."""
        return writing.target(name, self.out_dir, writes, self.force)

    def workers(self, total: int, name: str, then: Sequence[str] = ()) -> AbstractContextManager:
        """(executor, done) for `total` replications or points, by `--jobs` and `--dask`;
        `then`: modules to import while other processes play (`sim.experiment.preload`)."""
        return workers(self.jobs, self.dask, total, name, self.quiet, then)


#: The fields of `PlayOptions` that open a command's list, and those that close it.
_FIRST = ("scenario",)
_LAST = ("max_events", "max_file_size")


def play_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the argument and options of `PlayOptions` as one `options` parameter.

    typer reads a command's options from its signature, so the returned command
    shows the scenario first, then the shared options where `options` stands,
    the limits last, and hands `command` one `PlayOptions` made of them.
    """
    hints = get_type_hints(PlayOptions, include_extras=True)
    shared = {
        f.name: inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if f.default is MISSING else f.default,
            annotation=hints[f.name],
        )
        for f in fields(PlayOptions)
        if f.init
    }
    own = inspect.signature(command, eval_str=True)
    parameters = [shared[name] for name in _FIRST]
    for parameter in own.parameters.values():
        if parameter.name == "options":
            parameters += [p for name, p in shared.items() if name not in (*_FIRST, *_LAST)]
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    parameters += [shared[name] for name in _LAST]

    @functools.wraps(command)
    def with_options(**values: Any) -> None:
        options = PlayOptions(**{name: values.pop(name) for name in shared})
        import_numpy()  # before the command's own imports bring it, as `numpy_import` sets it
        command(options=options, **values)

    with_options.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_options
