"""The command line as the tests call it: `sim` in this process, and what a run leaves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner, Result

from sim.cli import app


def invoke(*args: object) -> Result:
    """`sim ARGS…` as a user types it (every argument as text); stdout and stderr apart."""
    return CliRunner().invoke(app, [str(arg) for arg in args])


def sim_run(scenario: object, out: Path, *options: object) -> tuple[Result, pd.DataFrame]:
    """`sim run SCENARIO --out OUT OPTIONS…`, which must succeed, and the summary.csv it wrote."""
    result = invoke("run", scenario, "--out", out, *options)
    assert result.exit_code == 0, result.output
    return result, pd.read_csv(out / "summary.csv")


def files_in(folder: Path) -> list[str]:
    """The names of what `folder` holds, sorted."""
    return sorted(path.name for path in folder.iterdir())


def run_files(steps: str | None = "steps.csv", timeline: bool = False) -> list[str]:
    """What `sim run` writes, sorted: the three tables, run.json and trace.json; the steps
    table as `steps` (None: left out); timeline.png if the pictures are drawn."""
    names = ["games.csv", "replications.csv", "run.json", "summary.csv", "trace.json"]
    names += [steps] if steps is not None else []
    names += ["timeline.png"] if timeline else []
    return sorted(names)
