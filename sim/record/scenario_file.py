"""From a raw recording to a checked scenario file and the lines that tell about it.

Shared by `sim record` and `python -m sim.record`: the scenario text is
validated by the same loader as any file, and its cooperative schedule is
played at once, so the user sees beside the measured time how closely the
scenario reproduces it.
"""

from __future__ import annotations

from sim.output.staging import write_atomically
from sim.record.program import RawRecording
from sim.record.render import DEFAULT_MAX_VALUES, render
from sim.record.transcript import Transcript, transcribe

__all__ = [
    "NothingRecorded",
    "report_lines",
    "scenario_text",
    "write_atomically",
]


class NothingRecorded(Exception):
    """The program ran no asyncio task: there is no scenario to write."""


def scenario_text(
    raw: RawRecording | None,
    name: str,
    *,
    deterministic: bool = False,
    exact: bool = False,
    max_values: int = DEFAULT_MAX_VALUES,
) -> tuple[str, Transcript]:
    """The scenario file's text, validated, and the transcript it was written from
    (`exact`: a group per task, see `transcribe`)."""
    from sim.scenario.loader import from_yaml

    if raw is None or not raw.tasks:
        raise NothingRecorded(
            "the program ran no asyncio task on a recorded loop "
            "(does it call asyncio.run, or set its own event loop policy?)"
        )
    transcript = transcribe(raw, exact=exact)
    if exact:
        deterministic = True  # one task a group: its own durations, nothing to draw
    text = render(transcript, name, deterministic=deterministic, max_values=max_values)
    from_yaml(text, source=f"<recorded {name}>")
    return text, transcript


#: Seeded runs averaged for the check when durations are drawn from distributions.
CHECK_RUNS = 5


def report_lines(transcript: Transcript, text: str, seed: int = 0) -> list[str]:
    """What the recording found, and the scenario's cooperative makespan beside the measured one
    (the mean of `CHECK_RUNS` seeds from `seed` on when durations are drawn)."""
    from sim.experiment.runs import run
    from sim.scenario.loader import from_yaml

    raw = transcript.recording
    measured = transcript.makespan_s
    busy = transcript.host_s / measured if measured else 0.0
    groups = ", ".join(
        f"{group.name} ×{group.count} ({len(group.positions)} steps)" for group in transcript.groups
    )
    scenario = from_yaml(text)
    seeds = range(seed, seed + (CHECK_RUNS if "dist: empirical" in text else 1))
    runs = [run(scenario, ["cooperative"], seed=s).summary["makespan_s"].iloc[0] for s in seeds]
    played = sum(runs) / len(runs)
    off = (played - measured) / measured if measured else 0.0
    how = f", mean of {len(runs)} seeded runs" if len(runs) > 1 else ""
    lines = [
        f"recorded python {raw.program}: {len(raw.tasks)} tasks, {transcript.steps} steps "
        f"in {measured:.3f} s (program {raw.wall_s:.3f} s), loop busy {busy:.0%}",
        f"groups: {groups}",
        *(flag.sentence() for flag in transcript.flags),
        *(f"note: {note}" for note in transcript.notes),
        f"cooperative makespan of the scenario: {played:.3f} s "
        f"({off:+.1%} against the recorded {measured:.3f} s{how})",
    ]
    return lines
