"""A thread's wait for the GIL after a blocking call is not written as part of its wait.

CPython's hooks see a C call return only once its thread holds the GIL again, so the
time off the CPU in a blocking call (other than `time.sleep`, whose length is known)
is the call's own wait plus the wait for the GIL after it. The recorder estimates the
second from every thread's stamps (`sim.record.calls._gil_waits`): the middle of what
they allow. The structural tests build threads' stamps by hand, so every figure is
arithmetic on them; the wallclock test records real threads reading real sockets.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.record.calls import (
    HANDOFF,
    JOIN,
    NATIVE,
    OTHER,
    WAIT,
    _classify,
    _gil_waits,
    _merged,
    _steps,
    _Thread,
)

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.005  # the switch interval the stamps were taken under
NO_COST = (0.0, 1.0)  # no hook cost per event, no slowdown: host steps are CPU as stamped


def thread(index: int, timed: list[tuple], last: float = 0.1) -> _Thread:
    """A thread seen from 0 to `last`, with these timed calls:
    (t0, c0, t1, c1, kind, events, slept, voluntary switches)."""
    state = _Thread(index)
    state.born, state.last, state.timed = 0.0, last, timed
    return state


def steps_of(state: _Thread, cpu_end: float) -> list:
    return _merged(_steps(state, 0.0, 0.0, 0.1, cpu_end, NO_COST, 0, 0))


def recv(t0: float, t1: float, switches: int, cpu: float = 0.002) -> tuple:
    """A blocking call from t0 to t1 that used no CPU and slept `switches` times."""
    return (t0, cpu, t1, cpu, WAIT, 0, -1.0, switches)


def test_alone_a_thread_never_waits_for_the_gil():
    # no other thread: the GIL is free all along, the 40 ms off the CPU are the call's
    alone = thread(0, [recv(0.010, 0.050, 3)])
    _gil_waits([alone], INTERVAL)
    assert alone.gil_waits == {0: 0.0}
    assert steps_of(alone, 0.005) == [["host", 0.002], ["wait", pytest.approx(0.040)],
                                      ["host", pytest.approx(0.003)]]  # fmt: skip


def busy_other(runs_until: float) -> _Thread:
    """Another thread: blocked (on a lock) until 30 ms, then Python until `runs_until`,
    then blocked again."""
    return thread(1, [(0.0, 0.0, 0.030, 0.0, JOIN, 0, -1.0, 1),
                      recv(runs_until, 0.1, 1, cpu=0.015)])  # fmt: skip


def test_the_gil_wait_is_the_middle_of_what_the_stamps_allow():
    # the other thread ran Python from 30 ms until just before A's call returned (a
    # handoff: shorter than HANDOFF), so the GIL was last free at 30 ms: A waited for it
    # at most 50 − 30 = 20 ms, and at most one 5 ms interval per sleep, 3 × 5 = 15 ms:
    # the estimate is 7.5 ms, and the wait written 40 − 7.5 = 32.5 ms
    handoff = 0.050 - HANDOFF / 2
    a = thread(0, [recv(0.010, 0.050, 3)])
    _gil_waits([a, busy_other(handoff)], INTERVAL)
    assert a.gil_waits == {0: pytest.approx(0.0075)}
    assert steps_of(a, 0.005) == [["host", 0.002], ["wait", pytest.approx(0.0325)],
                                  ["host", pytest.approx(0.003)]]  # fmt: skip
    # with 5 sleeps the stamps bound it first: min(40, 20, 25) = 20 ms, estimate 10 ms
    a = thread(0, [recv(0.010, 0.050, 5)])
    _gil_waits([a, busy_other(handoff)], INTERVAL)
    assert a.gil_waits == {0: pytest.approx(0.010)}


def test_a_gil_free_just_before_the_return_means_no_wait():
    # the other thread left Python 5 ms before A's call returned (longer than a
    # handoff): the GIL was free then, so A's call was still blocked: no GIL wait
    a = thread(0, [recv(0.010, 0.050, 3)])
    _gil_waits([a, busy_other(0.045)], INTERVAL)
    assert a.gil_waits == {0: 0.0}


def test_a_call_that_never_slept_waited_for_nothing():
    # off the CPU without a voluntary context switch: another process had its CPU
    a = thread(0, [recv(0.010, 0.050, 0)])
    _gil_waits([a, busy_other(0.0499)], INTERVAL)
    assert a.gil_waits == {}
    assert steps_of(a, 0.005) == [["host", pytest.approx(0.005)]]


def test_native_code_off_the_cpu_is_no_wait():
    # C code that computes without the GIL: 10 ms of CPU in 40 ms; the rest was the CPUs
    # shared with other threads and the GIL taken back, which schedules play again
    a = thread(0, [(0.010, 0.002, 0.050, 0.012, NATIVE, 0, -1.0, 0)])
    _gil_waits([a], INTERVAL)
    assert steps_of(a, 0.015) == [["host", 0.002], ["native", pytest.approx(0.010)],
                                  ["host", pytest.approx(0.003)]]  # fmt: skip


def test_a_long_unknown_call_that_never_slept_is_its_cpu():
    # `sum` of a long range: 60 ms of CPU in a C call holding the GIL, 70 ms of wall
    # (another process had the CPU for 10 ms): host, and no wait
    a = thread(0, [(0.010, 0.002, 0.080, 0.062, OTHER, 0, -1.0, 0)])
    _gil_waits([a], INTERVAL)
    assert steps_of(a, 0.065) == [["host", pytest.approx(0.065)]]
    # an unknown call mostly off the CPU, having slept (an extension that waited): 10 ms
    # of CPU, 60 ms of wait; alone, no GIL wait in it
    a = thread(0, [(0.010, 0.002, 0.080, 0.012, OTHER, 0, -1.0, 1)])
    _gil_waits([a], INTERVAL)
    assert steps_of(a, 0.015) == [["host", pytest.approx(0.012)], ["wait", pytest.approx(0.060)],
                                  ["host", pytest.approx(0.003)]]  # fmt: skip


def test_time_sleep_keeps_its_own_length():
    # `time.sleep(0.03)` returned after 40 ms: 30 ms slept, 10 ms waiting for the GIL
    a = thread(0, [(0.010, 0.002, 0.050, 0.002, WAIT, 0, 0.030, 3)])
    _gil_waits([a, busy_other(0.0499)], INTERVAL)
    assert a.gil_waits == {}
    assert steps_of(a, 0.005)[1] == ["wait", 0.030]


def test_a_socket_method_is_a_blocking_call_though_the_class_is_a_subclass():
    # `socket.socket` is a Python subclass of `_socket.socket`, whose methods its objects call
    with socket.socket() as sock:
        assert type(sock).__module__ == "socket"
        assert [_classify(sock, name) for name in ("recv", "sendall", "accept")] == [WAIT] * 3


def test_the_switch_interval_is_stretched_by_the_hooks_slowdown_while_recording():
    code = textwrap.dedent(
        """
        import json, sys
        from sim.record.calls import CallRecorder
        before = sys.getswitchinterval()
        recorder = CallRecorder()
        recorder.install()
        during = sys.getswitchinterval()
        recorder.uninstall()
        print(json.dumps([before, during, sys.getswitchinterval(), recorder.stretch]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    before, during, after, stretch = json.loads(done.stdout)
    assert stretch >= 1.0
    assert during == pytest.approx(before * stretch, abs=1e-6)  # kept in whole µs
    assert after == before


SERVER = """
import socket, sys, threading, time
def serve(conn):
    with conn:
        while data := conn.recv(64):
            time.sleep(0.020)
            conn.sendall(b"%064.9f" % time.perf_counter())  # when it answered
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
"""

CLIENT = """
import socket, subprocess, sys, threading
from concurrent.futures import ThreadPoolExecutor
server = subprocess.Popen([sys.executable, sys.argv[1]], stdout=subprocess.PIPE, text=True)
port, local, answered = int(server.stdout.readline()), threading.local(), []

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
    answer = local.sock.recv(64)  # the server answers 20 ms after the request
    spin(60_000)
    answered.append(float(answer))

with ThreadPoolExecutor(8) as pool:
    list(pool.map(fetch, range(80)))
server.kill()
"""


@pytest.mark.wallclock
def test_threads_reading_sockets_wait_about_what_the_server_made_them(tmp_path):
    """Eight threads, each 6 ms of Python and a 20 ms answer a time: the GIL is busy,
    so every thread back from its `recv` waits for it. Without the estimate the waits
    written were 20 ms plus that wait (a median of 31–32 ms a call here); with it their
    median is within 30 % of the 20 ms the server took (22–24 ms here)."""
    (tmp_path / "server.py").write_text(SERVER)
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    raw = tmp_path / "raw.json"
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "--raw", str(raw), "--task", "fetch",
         str(client), str(tmp_path / "server.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from sim.record.program import load_raw

    games = [g for g in load_raw(raw).calls.games if g.function == "fetch"]
    waits = [sum(s for k, s in g.steps if k == "wait") for g in games]
    assert len(waits) == 80
    assert statistics.median(waits) == pytest.approx(0.020, rel=0.3)
