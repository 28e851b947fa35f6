"""The documentation: the site builds without a warning, and the README stays a front page.

`mkdocs build --strict` fails on a broken link or anchor, a page missing from the
nav, a README section the site includes that is gone, and a module or name the
API reference (mkdocstrings) can no longer find; so a rename that leaves the
docs behind fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
#: Commands the command-line reference must show, each generated from `sim COMMAND --help`.
COMMANDS = ("run", "report", "sweep", "guide", "list", "validate", "record", "schema", "verify")
#: Markdown links and images: [text](target) and ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built strictly from this checkout into a folder of the test's own."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    assert mkdocs.is_file(), f"{mkdocs} is missing: pip install -e '.[dev]'"
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def test_the_site_builds_strictly_with_every_page(site):
    for page in (
        "index.html",
        "tutorial/polgar/index.html",
        "how-to/scenarios/index.html",
        "reference/cli/index.html",
        "reference/api/index.html",
        "design/index.html",
    ):
        assert (site / page).is_file(), page


def test_the_command_line_reference_is_generated_from_every_command(site):
    page = (site / "reference/cli/index.html").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f'id="sim-{command}"' in page, command
    assert "--max-events" in page and "sim-cli-reference" not in page


def test_the_home_page_includes_the_readme_s_which_model_table(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "<code>blocking_call</code>" in page and "<strong>3 655 s</strong>" in page


def test_the_readme_is_a_front_page_of_at_most_200_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_links_only_to_files_that_exist():
    links = LINK.findall(README.read_text(encoding="utf-8"))
    local = [link for link in links if not re.match(r"[a-z][a-z0-9+.-]*:", link)]
    assert local, "the README links into the docs"
    missing = [
        link for link in local if link.split("#")[0] and not (ROOT / link.split("#")[0]).exists()
    ]
    assert not missing, missing
