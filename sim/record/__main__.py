"""`python -m sim.record [options] (script.py | -m module) [args]`: record a program.

Runs the program in this interpreter under the recording loop and writes the
scenario (default `scenarios/<script stem>.yaml`; an existing file only with
`--force`). With `--raw FILE` it only writes the raw recording as JSON and
needs nothing beyond the standard library: that is how `sim record` runs a
program in the user's interpreter. Exit status: the program's own when it
failed, 2 when there is no such program or file to write.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

_VALUED = {"-o", "--out", "--raw", "--threshold", "--name", "--max-values", "--seed", "--task"}
_FLAGS = {"--deterministic", "--exact", "--force", "-h", "--help"}
#: Exit status when there is nothing to run or the scenario file is taken.
BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim.record",
        usage="%(prog)s [options] (script.py | -m module) [args]",
        description="Run a Python program, recording what its time was; write a scenario.",
        epilog="Example: python -m sim.record -o scenarios/crawler.yaml examples/crawler.py",
    )
    parser.add_argument("-o", "--out", type=Path, help="scenario file to write")
    parser.add_argument("--force", action="store_true", help="replace an existing scenario file")
    parser.add_argument("--raw", type=Path, help="write only the raw recording (JSON) here")
    parser.add_argument("--threshold", default="50ms", help="flag steps at least this long")
    parser.add_argument("--name", help="scenario name (default: the script's stem)")
    parser.add_argument("--deterministic", action="store_true", help="means, not distributions")
    parser.add_argument("--exact", action="store_true", help="a group per task: replays the run")
    parser.add_argument("--max-values", type=int, default=200, help="values per distribution")
    parser.add_argument("--seed", type=int, default=0, help="seed of the check run")
    parser.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="NAME",
        help="a program that is not asyncio: each call of this function (name, qualname or "
        "module:qualname) is one game; repeatable (default: chosen from the run)",
    )
    return parser


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our options come first; the program (script or `-m module`) and its arguments follow."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in _VALUED:
            index += 2
        elif token in _FLAGS or token.split("=", 1)[0] in _VALUED:
            index += 1
        else:
            break
    return argv[:index], argv[index:]


def _seconds(text: str) -> float:
    """`50ms`, `0.05s`, `0.05` (seconds); the stdlib-only twin of
    `sim.scenario.units.parse_duration`."""
    for suffix, scale in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale
    return float(text)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    ours, program = _split(sys.argv[1:] if argv is None else argv)
    options = parser.parse_args(ours)
    module = bool(program) and program[0] == "-m"
    if module:
        program = program[1:]
    if not program:
        parser.error("give the program: a script path or -m module")
    try:
        threshold = _seconds(options.threshold)
    except ValueError:
        parser.error(f"--threshold: expected a duration like 50ms, got {options.threshold!r}")
    from sim.record.program import (
        INTERRUPTED,
        TERMINATED,
        ProgramNotFound,
        ended_marker,
        record_program,
        save_raw,
    )

    target, args = program[0], program[1:]
    stem = Path(target).stem if not module else target.rsplit(".", 1)[-1]
    out = None if options.raw is not None else options.out or _default_out(stem)
    if out is not None and os.path.lexists(out) and not options.force:
        return _refuse(_taken(out, "nothing was run"))
    started = os.getpid()
    try:
        raw, status = record_program(
            target,
            args,
            module=module,
            threshold=threshold,
            tasks=tuple(options.task),
            on_end=None if options.raw is None else lambda: _writing(ended_marker(options.raw)),
        )
        if os.getpid() != started:  # a copy the program forked ended here: its parent writes
            return status
        if out is None and raw is not None:
            save_raw(raw, options.raw)
    except ProgramNotFound as error:
        return _refuse(f"{error}; nothing was run")
    finally:
        if options.raw is not None and os.getpid() == started:
            ended_marker(options.raw).unlink(missing_ok=True)  # written: nothing left to say
    if out is None:
        return status
    failed = status not in (0, INTERRUPTED, TERMINATED)
    if status and (raw is None or not (raw.tasks or raw.calls)):
        print(f"sim record: the program exited with status {status}; nothing written",
              file=sys.stderr)  # fmt: skip
        return status
    written = _write(raw, options, stem, out, status if failed else 0)
    return status if failed else written


def _taken(out: Path, what: str) -> str:
    """Why an existing scenario file is not replaced, and how to choose."""
    return f"{out} exists; write elsewhere with -o PATH, or replace it with --force; {what}"


def _writing(marker: Path) -> None:
    """The program has ended: say so to `sim record` (`marker`), and let neither Ctrl-C
    nor SIGTERM stop the writing of what it ran."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # no place to say it: sim record then stops the writing as the program
        pass


def _default_out(stem: str) -> Path:
    from sim.output.destination import slug

    return Path("scenarios") / f"{slug(stem)}.yaml"


def _refuse(message: str) -> int:
    print(f"sim record: {message}", file=sys.stderr)
    return BAD_INPUT


def _write(raw, options: argparse.Namespace, stem: str, out: Path, failed: int = 0) -> int:
    from sim.record.call_transcript import NothingCalled
    from sim.record.scenario_file import (
        NothingRecorded,
        marked_partial,
        report_lines,
        scenario_text,
        write_atomically,
    )
    from sim.scenario.errors import ScenarioError

    name = options.name or stem
    try:
        text, transcript = scenario_text(
            raw,
            name,
            deterministic=options.deterministic,
            exact=options.exact,
            max_values=options.max_values,
        )
    except (NothingCalled, NothingRecorded, ScenarioError) as error:
        return _refuse(str(error))
    if failed:
        text = marked_partial(text, raw, f"the program exited with status {failed}")
        print(f"sim record: the program exited with status {failed}: {out} holds what it ran "
              "until then, marked partial", file=sys.stderr)  # fmt: skip
    try:
        write_atomically(out, text, replace=options.force)
    except FileExistsError:  # made while the program ran
        return _refuse(_taken(out, "it was made while the program ran"))
    for line in report_lines(transcript, text, seed=options.seed):
        print(line, file=sys.stderr)
    if raw.forks and raw.calls is None:
        print(f"note: the program forked {raw.forks} time(s) outside its event loop: only "
              "the process that was started is recorded (a copy that ran a loop of its own "
              "is not)", file=sys.stderr)  # fmt: skip
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
