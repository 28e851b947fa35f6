""" "Which model should I use?" in the README is the engine's output, kept in step."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import sim.output.guide
from sim.cli import app
from sim.output.guide import BEGIN, END, guide
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def section() -> str:
    return guide()


def test_the_readme_section_is_what_the_engine_says_now(section):
    """Regenerate it with `sim guide --readme README.md` when a figure changes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme[readme.index(BEGIN) : readme.index(END) + len(END)] == section


def test_the_guide_marks_the_fastest_model_of_each_scenario(section):
    """cpu_bound: no GIL, 8 / 4 = 2 s; io_bound: asyncio and threads tie at 2 s;
    polgar: asyncio's 3 655 s."""
    rows = {line.split(" | ")[0]: line for line in section.splitlines() if line.startswith("| `")}
    assert "**2 s** | 2.05 s |" in rows["| `cpu_bound`"]
    assert "| **2 s** | **2 s** | — | 25.25 s |" in rows["| `io_bound`"]
    assert "| **3 655 s** |" in rows["| `polgar`"]


def test_guide_rewrites_only_its_section(tmp_path, section, monkeypatch):
    monkeypatch.setattr(sim.output.guide, "guide", lambda: section)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    result = CliRunner().invoke(app, ["guide", "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert text.startswith("# title\n\n" + BEGIN) and text.endswith(END + "\n\nafter\n")
    assert "old" not in text and "| `polgar` |" in text


def test_guide_refuses_a_file_without_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# nothing to replace\n")
    result = CliRunner().invoke(app, ["guide", "--readme", str(readme)])
    assert result.exit_code == 2
    assert "no section between" in result.stderr
    assert readme.read_text() == "# nothing to replace\n"
