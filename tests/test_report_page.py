"""`sim report` writes one self-contained page; headless Chromium opens it cleanly."""

from __future__ import annotations

import io
import re
import shutil

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.runs import run
from sim.results import explanations
from sim.scenario.loader import load_file
from sim.scenario.model import Scenario
from tests.browser import chromium, visit
from tests.conftest import SCENARIOS, cpu_bound

needs_chromium = pytest.mark.skipif(
    chromium() is None,
    reason="no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)",
)

READ = {
    "cells": "Array.from(document.querySelectorAll('tbody tr')).map("
    "r => Array.from(r.cells).map(c => c.textContent))",
    "images": "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])",
    "text": "document.body.innerText",
}


@pytest.fixture(scope="module")
def polgar_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    copy = folder / "exhibition.yaml"
    shutil.copy(SCENARIOS / "polgar.yaml", copy)
    out = folder / "out"
    result = CliRunner().invoke(app, ["report", str(copy), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "report.html"


def test_report_page_embeds_everything_and_asks_for_nothing_from_the_network(polgar_report):
    """Every src/href is a data: URL; the page forbids other loads by its CSP."""
    html = polgar_report.read_text(encoding="utf-8")
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith("data:") for link in links)
    assert "default-src 'none'" in html
    assert "host_move: 5" in html  # the scenario file itself


@needs_chromium
def test_report_opens_in_chromium_without_errors_and_shows_the_table(polgar_report, tmp_path):
    """The table rows read back from the rendered page, from the arithmetic:
    43 200 s = 12:00:00, speedup 1.00×, busy 3 600 / 43 200 = 8.3 %, article 12 h;
    3 655 s = 1:00:55, 43 200 / 3 655 = 11.82×, busy 3 600 / 3 655 = 98.5 %, article 1 h.
    Both pictures decode at 1 200 × 1 008 px (120 + 2 × (24 × 16 + 60))."""
    seen = visit(polgar_report, READ)
    assert seen.errors == []
    assert seen.values["cells"] == [
        ["synchronous", "43 200 s", "12:00:00", "1.00×", "8.3 %", "43 200 s (12 h)"],
        ["cooperative", "3 655 s", "1:00:55", "11.82×", "98.5 %", "3 600 s (1 h)"],
    ]
    assert seen.values["images"] == [[True, 1200, 1008], [True, 1200, 1008]]
    text = seen.values["text"]
    assert "cooperative is 11.82× faster than synchronous" in text
    assert "55 s more than the article's 3 600 s" in text
    (tmp_path / "report.png").write_bytes(seen.screenshot)
    shot = np.asarray(Image.open(io.BytesIO(seen.screenshot)).convert("RGB"))
    assert shot.shape[1] == 1280 and shot.shape[0] > 2 * 1008  # both timelines, at full size
    inked = (shot < 200).any(axis=2).mean()
    rgb = shot.astype(np.int32)
    colours = len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]))
    assert inked > 0.05 and colours > 50  # text, bars and pictures, not a blank page


@needs_chromium
def test_the_browser_check_does_catch_a_page_that_fails(tmp_path):
    """The same visit on a page with a script error and a failed load reports both."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="missing.png">'
        "<script>undefinedFunction()</script></body></html>",
        encoding="utf-8",
    )
    errors = visit(page, {}).errors
    assert any("undefinedFunction" in error or "exception" in error for error in errors)
    assert any("missing.png" in error or "ERR_FILE_NOT_FOUND" in error for error in errors)


def test_why_polgar_cooperative_wins_in_plain_words():
    """Each round is 5 s of Judit and 55 s of thinking: 55/60 = 91.7 % waiting, so she is
    busy 5/60 = 8.3 % synchronous; cooperative 3 600/3 655 = 98.5 %, 43 200/3 655 = 11.82×."""
    result = run(load_file(SCENARIOS / "polgar.yaml"))
    (why,) = explanations.comparisons(result)
    assert why.startswith("cooperative is 11.82× faster than synchronous (3 655 s against 43 200")
    assert "91.7 % of the games' step time is waiting" in why
    assert "Judit is busy only 8.3 %" in why and "busy 98.5 % of the time" in why
    assert (
        explanations.article_notes(result)[0]
        == "synchronous: 43 200 s, exactly the article's estimate."
    )


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        # 8 one-second host steps on 4 hosts: 2 s either way, nothing to overlap
        (
            cpu_bound(),
            f"every step needs {cpu_bound().host.name}, so there is no waiting to overlap",
        ),
        # one game on two hosts: 3 × (0.25 + 1) = 3.75 s either way
        (
            Scenario(
                host={"count": 2},
                players=[{"name": "solo", "moves": 3, "steps": [{"host": 0.25}, {"wait": 1}]}],
            ),
            "every game has a host to itself",
        ),
    ],
)
def test_why_cooperative_does_not_help(scenario, reason):
    result = run(scenario, ["synchronous", "cooperative"])
    (why,) = explanations.comparisons(result)
    assert "is no faster than synchronous" in why and reason in why


def test_with_replications_the_page_shows_their_summary_above_replication_one(tmp_path):
    """countasync played 3 times: fixed durations, so each mean is the one run's figure
    (3 s and 1 s) with no spread; then replication 1's own table."""
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["report", "countasync", "-r", "3", "-j", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Summary over 3 replications (seed 0)" in html
    assert html.index("Summary over 3") < html.index("Replication 1, drawn below")
    assert "<td>synchronous</td><td>3.0</td>" in html and "<td>cooperative</td><td>1.0</td>" in html


def test_the_page_names_the_bottleneck_and_what_doubling_it_gives(tmp_path):
    """scenarios/crawler.yaml: 200 pages, each 40 ms inside one of 10 connections, then
    2 ms of parsing. Cooperative: 20 batches × 40 ms + the last 10 parses (20 ms) = 0.82 s;
    the connections are held 200 × 40 ms = 8 s of 10 × 0.82 s = 97.6 %. With 20, the 20
    parses of a batch (40 ms) keep pace with its waits: played again it is 0.44 s, 1.86×.
    The page also says what the games share, and no article estimate is compared."""
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["report", str(SCENARIOS / "crawler.yaml"), "--out", str(out)])
    assert done.exit_code == 0, done.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Under cooperative, the busiest resource, connections, was busy 97.6 % of the time; "
        "raising its limit from 10 to 20 would take the makespan from 0.82 s to 0.44 s "
        "(1.86× faster)."
    ) in html
    assert "200 players served by 1 host (event loop), sharing connections (10 at once)" in html
    assert "article" not in html.split('<div class="why">')[1].split("</div>")[0]


def _recorded(schedules: str) -> str:
    """Ten tasks of 1 ms on the CPU then 40 ms of waiting, as a recording writes them."""
    return (
        "name: rec\ndescription: recorded from prog.py\nunit: ms\n"
        "players: [{name: fetch, count: 10, steps: [{host: 1}, {wait: 40}]}]\n"
        f"schedules: {schedules}\n"
    )


def test_a_recorded_loop_in_another_order_is_no_rewrite():
    """An asyncio program's own schedule is asyncio's order. Two pages share one
    connection for a 4 s wait, then parse 2 s: in asyncio's order page 2 gets the
    connection only once page 1 has parsed (12 s, tests/test_asyncio_order.py); the tie
    rule's 10 s is the same program played otherwise, no rewrite; one page after another
    is 2 × 6 s = 12 s, not faster: no rewrite pays."""
    from sim.results.explanations import rewrites
    from sim.scenario.loader import from_yaml

    scenario = from_yaml(
        "name: rec\ndescription: recorded from crawl.py\nresources: {connections: 1}\n"
        "players: [{name: page, count: 2, steps: [{with: connections, steps: [{wait: 4}]},"
        " {host: 2}]}]\n"
        "schedules: [{cooperative: {order: asyncio}}, cooperative, synchronous]\n"
    )
    (line,) = rewrites(run(scenario))
    assert line.startswith("No rewrite pays: your program takes 12 s as it is")
    assert "(cooperative(order=asyncio))" in line


def test_a_recorded_synchronous_program_hears_which_rewrite_pays():
    """The same tasks one after another (410 ms, the program's own) and on one loop
    (50 ms): the loop pays, 8.2× faster."""
    from sim.results.explanations import rewrites
    from sim.scenario.loader import from_yaml

    (line,) = rewrites(run(from_yaml(_recorded("[synchronous, cooperative]"))))
    assert line.startswith("Of the rewrites, cooperative pays most: 0.05 s, 8.2× faster")
    assert "your program's 0.41 s as it is (synchronous)" in line
