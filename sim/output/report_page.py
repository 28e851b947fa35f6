"""The report page: one self-contained HTML file telling the story of a run.

Everything is inside the file — pictures as base64 PNG, styles inline — and a
Content-Security-Policy forbids the page any network access, so it opens the
same from a mail attachment, a CI artifact or a laptop on a train. The page is
a string (the close-up picture is drawn here); the report layer writes it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from sim.output import plots
from sim.output.bottleneck import bottleneck_note
from sim.output.own_order import own_order_note
from sim.output.plots.style import short
from sim.results import console_tables
from sim.results.console_tables import (
    REPLICATION_HEADER,
    SUMMARY_HEADER,
    replication_cells,
    summary_cells,
)
from sim.results.explanations import article_notes, comparisons, rewrites
from sim.results.result import Result
from sim.scenario.units import format_count
from sim.scenario.yaml_lines import decode

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Page", "Pictures", "render", "report_page"]

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       max-width: 1240px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #d5dbe3; }
.lead { color: #4a5566; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { padding: 0.3em 0.9em; border-bottom: 1px solid #e3e7ed; }
th { background: #f2f5f9; text-align: right; }
td { text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
tr.fastest td { font-weight: 600; }
img { max-width: 100%; height: auto; border: 1px solid #e3e7ed; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 13px; }
.why p { margin: 0.5em 0; }
footer { margin-top: 2.5em; color: #6b7585; font-size: 0.9em; }
"""
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Page:
    """What report.html needs besides the run: the scenario file, the replicated summary
    (when there are replications) and the sweep picture (when one was drawn)."""

    source: str
    text: str
    summary: pd.DataFrame | None = None
    sweep_png: bytes | None = None


@dataclass(frozen=True)
class Pictures:
    """PNG bytes of the pictures the page shows; any may be missing."""

    timeline: bytes | None = None
    close_up: bytes | None = None
    close_up_caption: str = ""
    sweep: bytes | None = None


def page_for(source: Path, summary: pd.DataFrame | None, folder: Path) -> Page:
    """What report.html shows besides the run: the scenario file as it was read (UTF-8,
    or with a BOM), the replicated summary, and a sweep.png that `sim sweep` left in
    `folder`."""
    sweep_png = folder / "sweep.png"
    return Page(
        source=source.name,
        text=decode(source.read_bytes(), str(source)),
        summary=summary,
        sweep_png=sweep_png.read_bytes() if sweep_png.is_file() else None,
    )


def report_page(result: Result, page: Page, timeline: bytes | None, files: list[str]) -> str:
    """The report page of `result`, with a close-up of its first rounds drawn here."""
    span = plots.close_up_span(result.traces)
    close_up = None if span is None else plots.to_png(plots.timeline(result.traces, until=span))
    pictures = Pictures(
        timeline=timeline,
        close_up=close_up,
        close_up_caption=f"The first {short(span)} up close" if span else "",
        sweep=page.sweep_png,
    )
    why = rewrites(result) + comparisons(result) + article_notes(result)
    if note := own_order_note(result):  # the tie rule's figure is not asyncio's here
        why.append(note)
    if note := bottleneck_note(result):  # games that share resources: what holds them back
        why.append(note)
    return render(result, page, pictures, why, files)


def render(result: Result, page: Page, pictures: Pictures, why: list[str], files: list[str]) -> str:
    """The whole page: title, summary table(s), why, timeline, close-up, sweep, scenario."""
    scenario = result.scenario
    fastest = console_tables.fastest(result.summary["makespan_s"].to_numpy()).tolist()
    body = [
        f"<h1>{escape(scenario.name)}</h1>",
        f'<p class="lead">{escape(scenario.description)}</p>' if scenario.description else "",
        f"<p>{escape(_facts(result))}</p>",
    ]
    replicated = page.summary is not None and int(page.summary["replications"].max()) > 1
    if replicated:
        assert page.summary is not None
        count, seed = int(page.summary["replications"].max()), int(page.summary["seed"].iloc[0])
        body += [
            f"<h2>Summary over {count} replications (seed {seed})</h2>",
            "<p>Seconds; means over the replications, ± the 95 % confidence interval.</p>",
            _table(
                REPLICATION_HEADER,
                replication_cells(page.summary),
                console_tables.fastest(page.summary["makespan_s"].to_numpy()).tolist(),
            ),
            "<h2>Replication 1, drawn below</h2>",
        ]
    else:
        body.append("<h2>Summary</h2>")
    body += [
        _table(SUMMARY_HEADER, summary_cells(result), fastest),
        '<h2>Why</h2><div class="why">',
        *(f"<p>{escape(sentence)}</p>" for sentence in why),
        "</div>",
    ]
    if pictures.timeline is not None:
        body += ["<h2>Timeline</h2>", _image(pictures.timeline, f"timeline of {scenario.name}")]
    if pictures.close_up is not None:
        body += [
            f"<h2>{escape(pictures.close_up_caption)}</h2>",
            _image(pictures.close_up, f"the start of {scenario.name}, close up"),
        ]
    if pictures.sweep is not None:
        body += ["<h2>Sweep</h2>", _image(pictures.sweep, f"sweep of {scenario.name}")]
    elif scenario.sweep:
        body.append(
            f"<p>{escape(scenario.name)} has a <code>sweep:</code> block; "
            f"<code>sim sweep {escape(page.source)}</code> draws it, and the next report "
            "shows it here.</p>"
        )
    body += [
        f"<h2>Scenario <code>{escape(page.source)}</code></h2>",
        f"<pre>{escape(page.text)}</pre>",
        f"<footer>Files beside this page: {escape(', '.join(files))}. trace.json opens in "
        "Perfetto (ui.perfetto.dev) or chrome://tracing.</footer>",
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<link rel="icon" href="data:,">',
            f"<title>{escape(scenario.name)}: sim report</title>",
            f"<style>{_STYLE}</style></head><body>",
            *(part for part in body if part),
            "</body></html>",
            "",
        ]
    )


def _facts(result: Result) -> str:
    scenario = result.scenario
    players = _counted(scenario.games, "player")
    hosts = _counted(scenario.host.count, "host")
    if not scenario.shares:
        steps = _counted(scenario.step_count, "step")
        return f"{players} served by {hosts} ({scenario.host.name}); {steps} per schedule."
    # rows are made while playing (a consumer takes what it gets): count those played
    rows = max((len(trace.workload.kind) for trace in result.traces), default=0)
    shared = [f"{name} ({capacity} at once)" for name, capacity in scenario.resources.items()]
    shared += [
        f"executor {name} ({_counted(workers, 'worker')})"
        for name, workers in scenario.executors.items()
    ]
    shared += [
        f"queue {name} ({f'at most {queue.maxsize}' if queue.maxsize else 'unbounded'})"
        for name, queue in scenario.queues.items()
    ]
    sharing = f", sharing {', '.join(shared)}" if shared else ""
    return (
        f"{players} served by {hosts} ({scenario.host.name}){sharing}; "
        f"{_counted(rows, 'step')} per schedule."
    )


def _counted(count: int, noun: str) -> str:
    """`10000, "player"` → `10 000 players`."""
    return format_count(count) + f" {noun}{'' if count == 1 else 's'}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], fastest: list[bool]) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    lines = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for row, best in zip(rows, fastest, strict=True):
        cells = "".join(f"<td>{escape(cell)}</td>" for cell in row)
        lines.append(f'<tr class="fastest">{cells}</tr>' if best else f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img alt="{escape(alt)}" src="data:image/png;base64,{data}"></p>'
