"""asyncio's loop on a virtual clock: timers as epoll rounds them, worker threads exactly.

Each expected time follows from `BaseEventLoop._run_once` and the selector's
rounding: a loop with nothing ready sleeps until its next timer, the timeout
rounded up to the millisecond; a worker thread's `call_soon_threadsafe`
writes to the loop's wake-up socket, which ends that sleep at once.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from sim.engine.virtual_loop import Stalled, VirtualLoop


def test_a_timer_is_late_by_the_rounding_and_a_thread_s_call_is_not():
    """A thread handing the loop a callback at 1.2 ms (its job's end) is heard at 1.2 ms,
    where a timer would have waited for 2 ms. The loop then sleeps again: the 1.5 ms
    timer's remaining 0.3 ms is rounded up to 1 ms, so it runs at 2.2 ms."""
    loop, seen = VirtualLoop(), {}
    loop.call_later(0.0015, lambda: seen.setdefault("timer", loop.time()))

    async def main() -> None:
        done = loop.create_future()
        loop.in_thread_at(0.0012, lambda at: loop.call_soon_threadsafe(done.set_result, at))
        seen["handed"] = await done
        seen["heard"] = loop.time()
        await asyncio.sleep(0.003)

    loop.play(main())
    assert seen == pytest.approx({"handed": 0.0012, "heard": 0.0012, "timer": 0.0022}, abs=1e-15)


def test_a_thread_that_hands_the_loop_nothing_does_not_wake_it():
    """A silent act at 0.7 ms leaves the loop asleep: the 1.5 ms timer still runs at 2 ms
    (woken at 0.7 ms it would wait 0.8 ms more, rounded to 1 ms: 1.7 ms)."""
    loop, seen = VirtualLoop(), []
    loop.in_thread_at(0.0007, seen.append)
    loop.call_later(0.0015, lambda: seen.append(loop.time()))

    async def main() -> None:
        await asyncio.sleep(0.003)

    loop.play(main())
    assert seen == [0.0007, 0.002]


def test_what_a_thread_hands_over_while_the_loop_is_busy_queues_in_time_order():
    """A callback queues `a`, holds the loop 5 ms (`advance`), queues `b`: the thread's
    call at 2 ms lands between them, and all three run in the next iteration, in order."""
    loop, order = VirtualLoop(), []

    def busy() -> None:
        loop.call_soon(order.append, "a")
        loop.advance(0.005)
        loop.call_soon(order.append, "b")

    loop.in_thread_at(0.002, lambda at: loop.call_soon_threadsafe(order.append, ("thread", at)))

    async def main() -> None:
        loop.call_soon(busy)
        await asyncio.sleep(0.01)

    loop.play(main())
    assert order == ["a", ("thread", 0.002), "b"]


def test_a_loop_waiting_for_nothing_but_threads_sleeps_until_they_call():
    """No timer and no ready callback: the loop waits for the thread (at 3.25 s), and
    stalls only when no thread is left to call it."""
    loop = VirtualLoop()

    async def main() -> float:
        done = loop.create_future()
        loop.in_thread_at(3.25, lambda at: loop.call_soon_threadsafe(done.set_result, at))
        return await done

    assert loop.play(main()) == 3.25
    stalled = VirtualLoop()

    async def stuck() -> None:
        await stalled.create_future()

    with pytest.raises(Stalled):
        stalled.play(stuck())


def test_a_timer_due_late_in_the_run_is_due_when_its_time_comes():
    """At 4·10⁹ s a nanosecond is lost in the clock's float (its step is 0.5 µs), so asyncio,
    which takes a timer as due when it is before now + the clock's resolution, would never
    find a 1 s sleep due at 4·10⁹ + 1 s and would spin for ever: it ends at that time.
    (Played in a thread, so that spinning fails the test instead of hanging it.)"""
    loop, ended = VirtualLoop(), []

    async def main() -> None:
        loop.advance(4e9)  # four billion seconds of work
        await asyncio.sleep(1.0)
        ended.append(loop.time())

    assert _ends_in_time(loop, main()), "the loop spun at 4e9 s"
    assert ended == [4e9 + 1.0]


def test_a_sleep_of_many_days_is_one_wait():
    """asyncio caps a wait at a day, so a real loop wakes once a day on its way to a far
    timer: 10¹³ s of sleep would be 10⁸ turns of the loop. It is one wait here, ending at
    the timer. (Played in a thread, so that taking the turns fails the test.)"""
    loop, ended = VirtualLoop(), []

    async def main() -> None:
        await asyncio.sleep(1e13)
        ended.append(loop.time())

    assert _ends_in_time(loop, main()), "the loop took the sleep a day at a time"
    assert ended == [1e13]


def _ends_in_time(loop: VirtualLoop, main, seconds: float = 30) -> bool:
    """Play `main` in a thread: a loop that spins fails the test instead of hanging it."""
    player = threading.Thread(target=loop.play, args=(main,), daemon=True)
    player.start()
    player.join(timeout=seconds)
    return not player.is_alive()
