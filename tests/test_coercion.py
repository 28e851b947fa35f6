"""The command line's values converted without pydantic (`sim.cli.coercion`): what typer's
own conversion gives, refusals worded as typer words them, and `sim list` with no pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from sim.cli import app
from sim.cli.coercion import Plain

ROOT = Path(__file__).resolve().parent.parent

#: Values a user may type, plain and not: digits with zeros, signs, spaces, underscores
#: and exponents (which typer reads or refuses in its own way), sizes, counts, text.
TYPED = ["0", "1", "2", "007", "+5", " 5", "5_000", "-1", "1e3", "1.5", "x", "", "1MB",
         "500kB", "1e8", "10**9", "99999999999999999999", "polgar"]  # fmt: skip
LISTS = [("a", "b"), (), ("players.amateur.count=3",)]


def _parameters() -> list:
    group = typer.main.get_command(app)
    return [
        pytest.param(command, param, id=f"{name}-{param.name}")
        for name, command in sorted(group.commands.items())
        for param in command.params
    ]


def _converted(conversion, value, param, ctx):
    """(True, value) or (False, the refusal's message)."""
    try:
        return True, conversion.coerce(value, param=param, ctx=ctx)
    except BadParameter as error:
        return False, error.format_message()


@pytest.mark.parametrize(("command", "param"), _parameters())
def test_every_parameter_converts_as_typer_does(command, param):
    """For each option of each command and each value: the same value, or the same
    refusal (a refused value goes to typer's own conversion, which words it)."""
    ctx = Context(command, info_name=command.name)
    many = param.multiple or param.nargs == -1
    values = [None, *(LISTS if many else TYPED)]
    for value in values:
        plain = _converted(Plain(param), value, param, ctx)
        typers = _converted(build_runtime_param(param.type_descriptor), value, param, ctx)
        assert plain == typers, (param.name, value)
        assert type(plain[1]) is type(typers[1]), (param.name, value)


def test_sim_list_imports_no_pydantic(tmp_path):
    """The rows of unchanged files come from the cache, and no option is converted
    through pydantic: `sim list` needs none of it (0.05 s of imports)."""
    code = (
        "import sys\n"
        "import sim.cli\n"
        "sim.cli._leave = sys.exit  # exit the usual way: the line below still runs\n"
        "sys.argv = ['sim', 'list']\n"
        "try:\n"
        "    sim.cli.main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "SIM_CACHE_DIR": str(tmp_path)}
    for expected in ("True", "False"):  # the first fills the cache: it validates
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == expected
