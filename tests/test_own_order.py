"""asyncio's own order beside the tie rule's cooperative figure (`sim.output.own_order`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output import own_order
from sim.scenario.loader import from_yaml
from tests.test_asyncio_order import CRAWL as ONE_CONNECTION

#: Two pages through one connection (`tests.test_asyncio_order`), worked out there: 10 s by
#: the tie rule, 12 s in asyncio's order, where page 1 parses before page 2 runs.
CRAWL = ONE_CONNECTION + "schedules: [cooperative, synchronous]\n"


def test_where_asyncio_s_order_parts_from_the_tie_rule_a_sentence_says_by_how_much():
    note = own_order.own_order_note(sim.run(from_yaml(CRAWL)))
    assert note is not None
    assert "the tie rule's figure, 10 s" in note and "take 12 s (+20%)" in note


def test_where_they_agree_share_nothing_or_asyncio_s_order_is_shown_nothing_is_said():
    alone = "resources: {db: 1}\nplayers:\n  - steps: [{with: db, steps: [{wait: 1}]}, {host: 1}]\n"
    assert own_order.own_order_note(sim.run(from_yaml(alone))) is None  # 2 s either way
    assert own_order.own_order_note(sim.run("polgar")) is None  # shares nothing
    both = from_yaml(
        CRAWL.replace("[cooperative,", "[cooperative, {cooperative: {order: asyncio}},")
    )
    assert own_order.own_order_note(sim.run(both)) is None


def test_a_run_too_long_to_play_again_is_left_out(monkeypatch):
    monkeypatch.setattr(own_order, "MAX_STEPS", 5)  # the crawl has 6 rows
    assert own_order.own_order_note(sim.run(from_yaml(CRAWL))) is None


@pytest.mark.parametrize("command", ["run", "report"])
def test_the_sentence_is_under_the_table_and_on_the_page(command, tmp_path):
    file = tmp_path / "crawl.yaml"
    file.write_text(CRAWL)
    out = tmp_path / "out"
    plots = ["--no-plots"] if command == "run" else []
    result = CliRunner().invoke(app, [command, str(file), *plots, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "in asyncio's own order the same games take 12 s (+20%)" in result.stdout
    if command == "report":
        assert "12 s (+20%)" in (out / "report.html").read_text()
