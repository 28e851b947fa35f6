"""Who gets the GIL next? Real CPU-bound threads, watched from inside their busy loops.

N threads each spin in a pure-Python loop reading `time.perf_counter`; a gap
of more than `--gap` between two readings means the thread lost the GIL in
between. Every thread's running periods, merged and sorted, give the
sequence of GIL holders. Printed: how long a holder keeps the GIL (CPython
forces a switch after the 5 ms switch interval), and, at every handoff, how
long the new holder had been waiting compared with the other waiters: if
the lock (the OS, really) always woke the longest waiting thread, the rank
would always be 0; if it picked any waiter, ranks would be spread evenly.

Plain script, run by `make bench-threads`; a busy machine blurs the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time


def spin(seconds: float, gap: float, gate: threading.Event, periods: list) -> None:
    clock = time.perf_counter
    gate.wait()
    began = last = clock()
    end = began + seconds
    mine = []
    while last < end:
        now = clock()
        if now - last > gap:
            mine.append((began, last))
            began = now
        last = now
    mine.append((began, last))
    periods.extend((start, stop, threading.get_ident()) for start, stop in mine)


def handoffs(threads: int, seconds: float, gap: float) -> tuple[list[float], list[int], int]:
    gate = threading.Event()
    periods: list = []
    workers = [
        threading.Thread(target=spin, args=(seconds, gap, gate, periods)) for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.1)
    gate.set()
    for worker in workers:
        worker.join()
    periods.sort()
    merged: list = []  # a gap with nobody else running was the OS, not the GIL
    for start, stop, who in periods:
        if merged and merged[-1][2] == who:
            merged[-1] = (merged[-1][0], stop, who)
        else:
            merged.append((start, stop, who))
    periods = merged
    held = [stop - start for start, stop, _ in periods[1:-threads]]  # whole slices only
    last_run: dict[int, float] = {}
    ranks = []
    for start, stop, who in periods:
        waiting = {t: at for t, at in last_run.items() if t != who and at < start}
        if who in last_run and waiting:
            older = sum(1 for at in waiting.values() if at < last_run[who])
            ranks.append(older)  # 0: it had waited longest
        last_run[who] = stop
    return held, ranks, len(periods)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--gap", type=float, default=0.0005)
    parser.add_argument(
        "--intervals",
        type=float,
        nargs="+",
        help="switch intervals in ms to try (default: the interpreter's); each runs long "
        "enough for some 200 slices, and the median slice is shown past the interval: "
        "the OS's latency, the same number of seconds at every interval",
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, switch interval {sys.getswitchinterval() * 1e3:g} ms")
    default = sys.getswitchinterval()
    for interval in [ms / 1e3 for ms in args.intervals] if args.intervals else [default]:
        sys.setswitchinterval(interval)
        if args.intervals:
            print(f"switch interval {interval * 1e3:g} ms")
        for threads in args.threads:
            seconds = max(args.seconds, 200 * interval)
            held, ranks, count = handoffs(threads, seconds, args.gap)
            spread = [ranks.count(r) / len(ranks) for r in range(threads - 1)] if ranks else []
            median = statistics.median(held)
            print(
                f"{threads} threads: {count} slices, held median {median * 1e3:.2f} ms "
                f"({(median - interval) * 1e3:+.2f} ms past the interval; "
                f"p10 {statistics.quantiles(held, n=10)[0] * 1e3:.2f}, "
                f"p90 {statistics.quantiles(held, n=10)[-1] * 1e3:.2f}); new holder's wait rank "
                f"(0 = longest waiting): " + ", ".join(f"{share:.0%}" for share in spread)
            )
    sys.setswitchinterval(default)


if __name__ == "__main__":
    main()
