"""Same results as another commit: every shipped scenario and example, byte for byte.

    python bench/same_results.py --against REV      # REV: a commit, e.g. HEAD~3

A change that should not change behaviour (moving modules, renaming them)
proves it here: each command below (every `--help` page among them) runs once
with this tree and once with REV's tree (a `git worktree` beside it, same
interpreter and libraries), from the same working folder, and every file
written, every line printed and the exit status must be identical. `run.json`
(a sweep's `sweep.json`) is compared without its clock fields (`started_utc`, `finished_utc`,
`wall_s`), the only ones that differ from run to run by design.

Recorded examples are compared on one raw recording (taken once, with this
tree): the scenario each tree writes from it must be the same text, since a
second recording would time the program anew.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
RECORDED = ("crawler.py", "blocking_crawler.py")
CLOCK_FIELDS = ("started_utc", "finished_utc", "wall_s")

#: Writes the scenario a tree makes of a raw recording (its module moved once).
RENDER = """
import sys
from pathlib import Path
try:
    from sim.record.scenario_file import scenario_text
except ImportError:
    from sim.record.scenario_file import scenario_text
from sim.record.program import load_raw
raw = load_raw(Path(sys.argv[1]))
for options in ({}, {"deterministic": True}, {"exact": True}):
    text, _ = scenario_text(raw, "recorded", **options)
    print(text)
"""


def commands() -> list[tuple[str, list[str]]]:
    """(label, sim arguments) of every case; `{out}` becomes the case's own folder."""
    cases: list[tuple[str, list[str]]] = []
    for path in SCENARIOS:
        cases.append((f"run-{path.stem}", ["run", str(path), "--out", "{out}"]))
        cases.append((f"analytic-{path.stem}", ["run", str(path), "--analytic-only"]))
        cases.append((f"validate-{path.stem}", ["validate", str(path)]))
    polgar, whatif = ROOT / "scenarios/polgar.yaml", ROOT / "scenarios/polgar-whatif.yaml"
    cases += [
        ("report-polgar", ["report", str(polgar), "--out", "{out}"]),
        ("report-whatif", ["report", str(whatif), "--out", "{out}", "-r", "4"]),
        ("sweep-whatif", ["sweep", str(whatif), "--out", "{out}"]),
        (
            "sweep-set",
            ["sweep", str(polgar), "--vary", "players.amateur.count=1,12,24", "--out", "{out}"],
        ),
        (
            "run-set",
            [
                "run",
                str(polgar),
                "--set",
                "players.amateur.count=12",
                "--set",
                "host.count=2",
                "--schedule",
                "cooperative",
                "--out",
                "{out}",
            ],
        ),
        ("run-replications", ["run", str(whatif), "-r", "5", "--seed", "3", "--out", "{out}"]),
        ("verify-polgar", ["verify", str(polgar)]),
        ("verify-countasync", ["verify", str(ROOT / "scenarios/countasync.yaml")]),
        ("list", ["list"]),
        ("schema", ["schema"]),
        ("help", ["--help"]),
    ]
    commands = ("run", "report", "sweep", "verify", "record", "list", "validate", "schema", "guide")
    cases += [(f"help-{command}", [command, "--help"]) for command in commands]
    return cases


def play(tree: Path, work: Path, label: str, args: list[str]) -> None:
    """Run one case with `tree`'s `sim` from `work`; keep its output beside its files."""
    out = work / label
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "120", "TERM": "dumb"}
    argv = [sys.executable, "-m", "sim", *(a.replace("{out}", f"{label}/files") for a in args)]
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    (out / "exit").write_text(f"{done.returncode}\n")
    (out / "stdout").write_text(done.stdout)
    (out / "stderr").write_text(done.stderr)


def examples(tree: Path, work: Path, raws: dict[str, Path]) -> None:
    """The API example's output, and the scenarios written from each raw recording."""
    env = {**os.environ, "PYTHONPATH": str(tree), "SIM_EXPLORE_OUT": "explore"}  # printed: relative
    for name, raw in raws.items():
        done = subprocess.run(
            [sys.executable, "-c", RENDER, str(raw)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        (work / f"record-{name}.yaml").write_text(done.stdout + done.stderr)
    done = subprocess.run(
        [sys.executable, str(tree / "examples/explore.py")],  # each tree its own API
        env=env, capture_output=True, text=True, check=False, cwd=work,
    )  # fmt: skip
    (work / "explore.out").write_text(done.stdout + done.stderr)


def recordings(folder: Path) -> dict[str, Path]:
    """One raw recording of each recorded example, taken with this tree."""
    raws = {}
    for script in RECORDED:
        raw = folder / f"{script}.json"
        command = ["-m", "sim.record", "--raw", str(raw), str(ROOT / "examples" / script)]
        subprocess.run(
            [sys.executable, *command],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, check=True,
        )  # fmt: skip
        raws[script] = raw
    return raws


def differences(ours: Path, theirs: Path) -> list[str]:
    """Every file that is not the same in both folders (run.json and sweep.json less their
    clock fields)."""
    found = []
    names = {p.relative_to(ours) for p in ours.rglob("*") if p.is_file()}
    names |= {p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file()}
    for name in sorted(names):
        a, b = ours / name, theirs / name
        if not (a.is_file() and b.is_file()):
            found.append(f"{name}: only in {'this tree' if a.is_file() else 'the other'}")
        elif name.name in ("run.json", "sweep.json"):
            if _without_clock(a) != _without_clock(b):
                found.append(f"{name}: differs beyond its clock fields")
        elif not filecmp.cmp(a, b, shallow=False):
            found.append(f"{name}: differs")
    return found


def _without_clock(path: Path) -> dict:
    data = json.loads(path.read_text())
    for field in CLOCK_FIELDS:
        data.pop(field, None)
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the commit to compare with")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="same-results-") as temp:
        base = Path(temp)
        other = base / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(other), options.against],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            raws = recordings(base)
            for tree, work in ((ROOT, base / "ours"), (other, base / "theirs")):
                for label, args in commands():
                    play(tree, work, label, args)
                examples(tree, work, raws)
            found = differences(base / "ours", base / "theirs")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT)
        cases = len(commands()) + len(RECORDED) + 1
        files = sum(1 for p in (base / "ours").rglob("*") if p.is_file())
        if found:
            print(f"{len(found)} of {files} files differ from {options.against}:")
            print("\n".join(f"  {line}" for line in found))
            return 1
        print(f"same as {options.against}: {cases} cases, {files} files, byte for byte")
        return 0


if __name__ == "__main__":
    sys.exit(main())
