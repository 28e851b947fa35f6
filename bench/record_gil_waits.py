"""Threads back from a blocking socket read wait for the GIL: is that wait kept out of the
waits `sim record` writes?

A pool of N threads fetches pages from a server process: each page is about 3 ms of
Python, a request sent, a blocking `recv` of the answer the server sends `--delay`
after the request arrived, and 3 ms of Python again. With 8 threads the GIL is busy,
so a thread whose answer came waits for it before its `recv` returns, and the hook
sees the call end only then. Each N is recorded (`python -m sim.record --raw`, each
call of `fetch` a game) and the waits written per game are compared with what the
server made them wait: the delay, plus the time the request and the answer take
(what one thread, which never waits for the GIL, records).

    python bench/record_gil_waits.py [--workers 1 2 4 8] [--pages 100] [--delay 0.03]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.record.program import load_raw

ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import socket, sys, threading, time
delay = float(sys.argv[1])
def serve(conn):
    with conn:
        while conn.recv(64):
            time.sleep(delay)
            conn.sendall(b"%064d" % 0)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
"""

CLIENT = """
import socket, subprocess, sys, threading
from concurrent.futures import ThreadPoolExecutor
server_py, delay, workers, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
server = subprocess.Popen([sys.executable, server_py, delay], stdout=subprocess.PIPE, text=True)
port, local = int(server.stdout.readline()), threading.local()

def spin(n):
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFFFF
    return x

def fetch(number):
    if not hasattr(local, "sock"):
        local.sock = socket.create_connection(("127.0.0.1", port))
    spin(60_000)  # about 3 ms of Python
    local.sock.sendall(b"%064d" % number)
    local.sock.recv(64)
    spin(60_000)

with ThreadPoolExecutor(workers) as pool:
    list(pool.map(fetch, range(pages)))
server.kill()
"""


def waits(folder: Path, workers: int, pages: int, delay: float) -> list[float]:
    """The waits written for each game (each call of `fetch`), in seconds."""
    raw = folder / f"raw{workers}.json"
    command = [sys.executable, "-m", "sim.record", "--raw", str(raw), "--task", "fetch"]
    command += [str(folder / "client.py"), str(folder / "server.py"), str(delay)]
    command += [str(workers), str(pages)]
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True, timeout=600)
    calls = load_raw(raw).calls
    assert calls is not None
    games = [g for g in calls.games if g.function == "fetch"]
    return [sum(seconds for kind, seconds in g.steps if kind == "wait") for g in games]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.03, help="the server's delay, s")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gil-waits-") as scratch:
        folder = Path(scratch)
        (folder / "server.py").write_text(SERVER)
        (folder / "client.py").write_text(CLIENT)
        alone = statistics.median(waits(folder, 1, options.pages, options.delay))
        print(f"one thread: a median wait of {alone * 1e3:.2f} ms a game (the truth below)")
        print(f"{'threads':>7} {'median ms':>9} {'mean ms':>8} {'error of mean':>13}")
        for workers in options.workers:
            written = waits(folder, workers, options.pages, options.delay)
            mean = statistics.fmean(written)
            print(
                f"{workers:7d} {statistics.median(written) * 1e3:9.2f} {mean * 1e3:8.2f} "
                f"{(mean - alone) / alone:+13.1%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
