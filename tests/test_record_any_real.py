"""The examples that are not asyncio run at their default size, in about the time they document.

Each prints its own wall time. The lower bounds are the waits alone (a
`time.sleep` never returns early), which no machine can beat; the CPU parts
are real work whose speed depends on the machine, and the machine may be
busy, so the upper bounds are generous. They hold a real run's time against a
figure, so they are marked `wallclock` (`make test-wallclock`).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.wallclock

TIME = re.compile(r" in ([0-9.]+) s$", re.MULTILINE)
#: example: (at least, at most) seconds at its default size
RANGES = {
    "sync_fetcher": (3.0, 5.0),  # about 3.5 s: 100 waits of 30 ms, one after another
    "async_fetcher": (0.2, 1.0),  # about 0.5 s: 100 × 5 ms of CPU on one loop
    "threaded_fetcher": (0.2, 1.0),  # about 0.55 s: the same CPU under one GIL
    "process_fetcher": (0.75, 1.6),  # about 1 s: 25 waits of 30 ms on each of 4 processes
    "threaded_cache": (0.75, 1.3),  # about 0.85 s: 300 waits of 20 ms on 8 threads
    "cpu_loop": (0.5, 5.0),  # about 2 s
    "hashing": (0.5, 5.0),  # about 1.9 s
}


@pytest.mark.parametrize("example", list(RANGES))
def test_example_runs_in_its_documented_time(example: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{example}.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seconds = float(TIME.search(done.stdout)[1])
    low, high = RANGES[example]
    assert low <= seconds <= high, f"{example}: {seconds:.3f} s, expected {low}–{high} s"
