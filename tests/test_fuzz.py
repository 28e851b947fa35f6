"""Two thousand hostile scenario files through `sim validate` and `sim run`.

Every file either passes (status 0, results written) or fails with status 2
and one line per problem, each naming the file, a line of it and, where the
problem is about a field, the field's path. No file may raise: an exception
escapes `invoke` below and fails the test with its traceback. Accepted files
must also pass the JSON Schema, so editors never flag a file `sim` accepts.

The commands run in-process on a click command built once (building it is
most of CliRunner's cost per call); `tests/test_hardening.py` runs the
regression corpus through the real `sim` executable.
"""

from __future__ import annotations

import datetime
import io
import re
from collections import Counter, defaultdict
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import jsonschema
import pytest
import typer
import yaml

from sim.cli import app
from sim.output.staging import PREFIX
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.limits import Limits
from sim.scenario.loader import decode, load_file
from sim.scenario.schema import scenario_schema
from tests.fuzz import mutants

FILES = 2_000
SEED = 9
#: Small enough that every accepted file runs in milliseconds, in this process; pictures
#: of hostile names are the regression corpus's part (tests/corpus/), not redrawn here.
BUDGET = ["--max-events", "5000"]
RUN = ["--jobs", "1", "--no-steps", "--no-plots", *BUDGET]
#: Problems with the file as a whole, not with one field: no field path applies.
WHOLE_FILE = (
    "not valid YAML",
    "not UTF-",
    "refused: ",
    "expected a mapping with at least `players:`",
    "the file passes the limit",
)


COMMAND = typer.main.get_command(app)
#: The parser `sim` uses: libyaml's where PyYAML has it (it differs on tabs, for one).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def invoke(*args: str) -> tuple[int, str, str]:
    """`sim ARGS` in this process: exit status, stdout, stderr; exceptions propagate."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            status = COMMAND.main(list(args), prog_name="sim", standalone_mode=False)
        except SystemExit as exit_:
            status = exit_.code
    return status or 0, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, list[Problem]]]:
    """The hostile files, each with the problems the loader finds in it (none: valid)."""
    folder = tmp_path_factory.mktemp("fuzzed")
    files = []
    for index, content in enumerate(mutants(SEED, FILES)):
        path = folder / f"m{index:04d}.yaml"
        path.write_bytes(content)
        try:
            load_file(path, limits=Limits(max_events=5_000))
        except ScenarioError as error:
            files.append((path, error.problems))
        else:
            files.append((path, []))
    return files


def _check_problem(problem: Problem, path: Path) -> None:
    """File, a line inside it, and a field path unless the problem is the whole file's."""
    lines = path.read_bytes().count(b"\n") + path.read_bytes().count(b"\r") + 1
    assert problem.source == str(path), problem
    assert problem.line is not None and 1 <= problem.line <= lines, problem
    assert problem.path or problem.message.startswith(WHOLE_FILE), problem
    assert "\n" not in str(problem) and "\r" not in str(problem), problem


def test_hostile_files_pass_or_fail_with_status_2_naming_file_line_and_field(fuzzed, tmp_path):
    """`sim run` on each file alone; `sim validate` on all of them at once must agree."""
    out = tmp_path / "out"
    statuses: Counter[int] = Counter()
    for path, problems in fuzzed:
        # --force: the run.json removed below no longer vouches for the files beside it
        status, _, stderr = invoke("run", str(path), "--out", str(out), "--force", *RUN)
        assert status == (2 if problems else 0), (path, stderr)
        for problem in problems:
            _check_problem(problem, path)
        assert stderr.splitlines() == [str(problem) for problem in problems]
        if not problems:
            assert (out / "run.json").is_file(), path
            (out / "run.json").unlink()
        statuses[status] += 1
    assert statuses[0] >= FILES // 20 and statuses[2] >= FILES // 2, statuses  # both exercised
    assert not list(out.glob(f"{PREFIX}*")), "a staging folder was left behind"

    status, stdout, stderr = invoke("validate", *(str(path) for path, _ in fuzzed), *BUDGET)
    assert status == 2
    said: dict[str, list[str]] = defaultdict(list)
    for line in stderr.splitlines():
        said[re.match(r"^(.*?m\d{4}\.yaml)[: ]", line)[1]].append(line)
    passed = {line.split(": ")[0].removeprefix("ok ") for line in stdout.splitlines()}
    for path, problems in fuzzed:
        if problems:  # the same lines as `sim run` gave
            assert said[str(path)] == [str(problem) for problem in problems], path
        elif str(path) not in passed:  # `run` plays the file; `validate` also checks its sweep
            assert "sweep" in decode(path.read_bytes()) and said[str(path)], path


def test_every_accepted_file_is_valid_under_the_json_schema(fuzzed):
    """The schema may be stricter than nothing, but never stricter than `sim`."""
    validator = jsonschema.Draft7Validator(scenario_schema())
    checked = 0
    for path, problems in fuzzed:
        if problems:
            continue
        data = yaml.load(decode(path.read_bytes()), Loader=SAFE_LOADER)  # as `sim` reads it
        if _json_types_only(data):  # `!!binary` or `!!timestamp` have no JSON counterpart
            errors = [error.message for error in validator.iter_errors(data)]
            assert errors == [], (path, errors)
            checked += 1
    assert checked >= FILES // 20


def _json_types_only(data: object) -> bool:
    if isinstance(data, dict):
        return all(isinstance(k, str) and _json_types_only(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_json_types_only(item) for item in data)
    return not isinstance(data, bytes | datetime.date | set)
