"""From a raw recording to a checked scenario file and the lines that tell about it.

Shared by `sim record` and `python -m sim.record`: the scenario text is
validated by the same loader as any file, and its cooperative schedule is
played at once, so the user sees beside the measured time how closely the
scenario reproduces it.
"""

from __future__ import annotations

from sim.output.staging import write_atomically
from sim.record.call_transcript import CallTranscript, render_calls, transcribe_calls
from sim.record.program import RawRecording
from sim.record.render import DEFAULT_MAX_VALUES, quoted, render
from sim.record.transcript import Transcript, transcribe

__all__ = [
    "NothingRecorded",
    "marked_partial",
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
) -> tuple[str, Transcript | CallTranscript]:
    """The scenario file's text, validated, and the transcript it was written from
    (`exact`: a group per task, see `transcribe`)."""
    from sim.scenario.loader import from_yaml

    if raw is not None and raw.calls is not None:
        calls = transcribe_calls(raw)
        if not calls.groups:
            raise NothingRecorded("the program ran no Python code that could be recorded")
        text = render_calls(calls, name, deterministic=deterministic, max_values=max_values)
        from_yaml(text, source=f"<recorded {name}>")
        return text, calls
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


def report_lines(transcript: Transcript | CallTranscript, text: str, seed: int = 0) -> list[str]:
    """What the recording found, and the makespan of each cooperative schedule of the scenario
    (the tie rule's, asyncio's order) beside the measured one (the mean of `CHECK_RUNS`
    seeds from `seed` on when durations are drawn)."""
    from sim.experiment.runs import run
    from sim.scenario.loader import from_yaml

    if isinstance(transcript, CallTranscript):
        return _answer_lines(transcript, text, seed)

    raw = transcript.recording
    measured = transcript.makespan_s
    busy = transcript.host_s / measured if measured else 0.0
    groups = ", ".join(
        f"{group.name} ×{group.count} ({len(group.positions)} steps)" for group in transcript.groups
    )
    scenario = from_yaml(text)
    seeds = range(seed, seed + (CHECK_RUNS if "dist: empirical" in text else 1))
    how = f", mean of {len(seeds)} seeded runs" if len(seeds) > 1 else ""
    lines = [
        f"recorded python {raw.program}: {len(raw.tasks)} tasks, {transcript.steps} steps "
        f"in {measured:.3f} s (program {raw.wall_s:.3f} s), loop busy {busy:.0%}",
        f"groups: {groups}",
        *(flag.sentence() for flag in transcript.flags),
        *(f"note: {note}" for note in transcript.notes),
    ]
    for schedule in (s for s in scenario.schedules if s.kind == "cooperative"):
        runs = [run(scenario, [schedule], seed=s).summary["makespan_s"].iloc[0] for s in seeds]
        played = sum(runs) / len(runs)
        off = (played - measured) / measured if measured else 0.0
        lines.append(
            f"{schedule.label} makespan of the scenario: {played:.3f} s "
            f"({off:+.1%} against the recorded {measured:.3f} s{how})"
        )
    return lines


def _answer_lines(transcript: CallTranscript, text: str, seed: int) -> list[str]:
    """Each schedule's makespan, the program's own beside its recorded time, and where the
    time went: the answer to "would asyncio, threads or processes make it faster?"."""
    from sim.experiment.runs import run
    from sim.scenario.loader import from_yaml

    raw, calls = transcript.recording, transcript.calls
    scenario = from_yaml(text)
    labels = [schedule.label for schedule in scenario.schedules]
    seeds = range(seed, seed + (CHECK_RUNS if "dist: empirical" in text else 1))
    totals = dict.fromkeys(labels, 0.0)
    played: set[str] = set()
    for s in seeds:
        summary = run(scenario, seed=s).summary
        for label, makespan in zip(summary["schedule"], summary["makespan_s"], strict=True):
            totals[label] += float(makespan) / len(seeds)
            played.add(label)
    measured = transcript.makespan_s
    own = totals[labels[0]]
    games = sum(group.count for group in transcript.groups)
    task = calls.task
    lines = [
        f"recorded python {raw.program}: {games} games in {len(transcript.groups)} groups, "
        f"{measured:.3f} s (program {raw.wall_s:.3f} s)",
    ]
    if task is not None and task.name and not task.given:
        lines.append(
            f"unit of work: each call of {task.name} (the function called most often with "
            "the most waiting inside it); choose another with --task NAME"
        )
    elif task is not None and not task.name:
        lines.append("unit of work: none found (no function of the program was called twice); "
                     "name one with --task NAME")  # fmt: skip
    busy = [(kind, transcript.seconds(kind)) for kind in ("host", "wait", "native")]
    total = sum(seconds for _, seconds in busy) or 1.0
    shares = ", ".join(f"{kind} {seconds / total:.0%}" for kind, seconds in busy if seconds)
    lines.append(f"where the time goes: {shares} (host: Python on the CPU; wait: blocking "
                 "calls off the CPU; native: C code with the GIL released)")  # fmt: skip
    lines.append(
        f"the recorder's hook ({calls.hook}) made Python run {calls.slowdown:.2f}× slower and "
        f"cost {calls.overhead_s * 1e6:.2f} µs an event (both measured after the run): host "
        "steps are written without them"
    )
    lines += [f"note: {note}" for note in transcript.notes]
    how = f" (mean of {len(seeds)} seeded runs)" if len(seeds) > 1 else ""
    lines.append(f"makespan by schedule{how}:")
    width = max(len(label) for label in labels)
    for i, label in enumerate(labels):
        seconds = totals[label]
        if label not in played:  # left out of the run: its games would wait for ever
            lines.append(f"  {label:<{width}}  {'—':>9}    its games would wait for ever")
            continue
        if i == 0:  # the recorded run was slowed by the recorder; the scenario is not
            tail = f"your program ({transcript.own}); {measured:.3f} s while recorded"
        else:
            tail = _compared(seconds, own)
        lines.append(f"  {label:<{width}}  {seconds:9.3f} s  {tail}")
    return lines


def _compared(seconds: float, own: float) -> str:
    if not seconds or not own:
        return ""
    if seconds <= own:
        return f"{own / seconds:.1f}× faster"
    return f"{seconds / own:.1f}× slower"


def marked_partial(text: str, raw: RawRecording, why: str) -> str:
    """The scenario text, said to hold only what the program ran before it ended early."""
    description = quoted("recorded from " + raw.program)
    partial = quoted(f"recorded from {raw.program} (partial: {why})")
    head = f"# Partial: {why}; this is what it ran until then.\n"
    return head + text.replace(f"description: {description}\n", f"description: {partial}\n", 1)
