"""`python -m sim.record [options] (script.py | -m module) [args]`: record a program.

Runs the program in this interpreter under the recording loop and writes the
scenario (default `scenarios/<script stem>.yaml`). With `--raw FILE` it only
writes the raw recording as JSON and needs nothing beyond the standard
library: that is how `sim record` runs a program in the user's interpreter.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_VALUED = {"-o", "--out", "--raw", "--threshold", "--name", "--max-values", "--seed", "--task"}
_FLAGS = {"--deterministic", "--exact", "-h", "--help"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim.record",
        usage="%(prog)s [options] (script.py | -m module) [args]",
        description="Run a Python program, recording what its time was; write a scenario.",
        epilog="Example: python -m sim.record -o scenarios/crawler.yaml examples/crawler.py",
    )
    parser.add_argument("-o", "--out", type=Path, help="scenario file to write")
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
    from sim.record.program import INTERRUPTED, record_program, save_raw

    target, args = program[0], program[1:]
    raw, status = record_program(
        target, args, module=module, threshold=threshold, tasks=tuple(options.task)
    )
    if options.raw is not None:
        if raw is not None:
            save_raw(raw, options.raw)
        return status
    failed = status not in (0, INTERRUPTED)
    if status and (raw is None or not (raw.tasks or raw.calls)):
        print(f"sim record: the program exited with status {status}; nothing written",
              file=sys.stderr)  # fmt: skip
        return status
    stem = Path(target).stem if not module else target.rsplit(".", 1)[-1]
    written = _write(raw, options, stem, status if failed else 0)
    return status if failed else written


def _write(raw, options: argparse.Namespace, stem: str, failed: int = 0) -> int:
    from sim.output.destination import slug
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
    out = options.out or Path("scenarios") / f"{slug(stem)}.yaml"
    try:
        text, transcript = scenario_text(
            raw,
            name,
            deterministic=options.deterministic,
            exact=options.exact,
            max_values=options.max_values,
        )
    except (NothingCalled, NothingRecorded, ScenarioError) as error:
        print(f"sim record: {error}", file=sys.stderr)
        return 2
    if failed:
        text = marked_partial(text, raw, f"the program exited with status {failed}")
        print(f"sim record: the program exited with status {failed}: {out} holds what it ran "
              "until then, marked partial", file=sys.stderr)  # fmt: skip
    write_atomically(out, text)
    for line in report_lines(transcript, text, seed=options.seed):
        print(line, file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
