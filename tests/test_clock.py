"""sim.engine.clock: SimPy at exact times, and the only module that touches SimPy's internals.

The engines rely on SimPy's private attributes (its event queue, an event's
`_ok` and `_value`) only through `sim.engine.clock`, so a SimPy release that
changes them breaks one module, whose tests here say so.
"""

from __future__ import annotations

import ast
from heapq import heappush
from pathlib import Path

import pytest
import simpy
from simpy.events import NORMAL, URGENT

from sim.engine.clock import Clock, Due

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"
CLOCK = SIM / "engine" / "clock.py"


# --- no module but clock.py touches SimPy's internals --------------------------------------


def simpy_private_names() -> frozenset[str]:
    """Every `_name` (not dunder) that SimPy's own source reads, sets or defines."""
    names = set()
    for path in Path(simpy.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return frozenset(n for n in names if n.startswith("_") and not n.startswith("__"))


PRIVATE = simpy_private_names()


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


class _Toucher(ast.NodeVisitor):
    """Finds where a module reaches SimPy's private attributes.

    `x._name`, `getattr(x, "_name")` and the like count for every `_name`
    SimPy uses itself, except `self._name` in a class that does not derive
    from a SimPy class (the class's own attribute, such as `self._env`).
    """

    def __init__(self) -> None:
        self.imported: dict[str, str] = {}  # local name → where it comes from
        self.simpy_classes: set[str] = set()  # classes of this module deriving from SimPy's
        self.classes: list[str | None] = []  # enclosing classes, innermost last
        self.found: list[tuple[int, str]] = []

    def _from_simpy(self, base: ast.expr) -> bool:
        name = _dotted(base)
        if name is None:
            return False
        head, _, rest = name.partition(".")
        origin = ".".join(filter(None, [self.imported.get(head, head), rest]))
        return (
            origin.split(".")[0] == "simpy"
            or origin.startswith("sim.engine.clock.")
            or name in self.simpy_classes
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self.imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if (node.module or "").startswith("simpy") and alias.name in PRIVATE:
                self.found.append((node.lineno, f"from {node.module} import {alias.name}"))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(self._from_simpy(base) for base in node.bases):
            self.simpy_classes.add(node.name)
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in PRIVATE and not self._own(node.value):
            self.found.append((node.lineno, f"{_dotted(node) or '…'}"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        """`getattr(x, "_name")`, `setattr`, `hasattr`, `delattr`: the same by name."""
        func, args = node.func, node.args
        if (
            isinstance(func, ast.Name)
            and func.id in {"getattr", "setattr", "hasattr", "delattr"}
            and len(args) >= 2
            and isinstance(args[1], ast.Constant)
            and args[1].value in PRIVATE
            and not self._own(args[0])
        ):
            self.found.append((node.lineno, f"{func.id}(…, {args[1].value!r})"))
        self.generic_visit(node)

    def _own(self, owner: ast.expr) -> bool:
        """`self` in a class of the project's own, not a SimPy event or environment."""
        inside = self.classes[-1] if self.classes else None
        return (
            isinstance(owner, ast.Name)
            and owner.id == "self"
            and inside is not None
            and inside not in self.simpy_classes
        )


def simpy_internals(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place `source` touches a SimPy private attribute."""
    toucher = _Toucher()
    toucher.visit(ast.parse(source))
    return toucher.found


def test_the_scan_knows_simpys_private_attributes():
    assert {"_queue", "_eid", "_now", "_ok", "_value", "_defused"} <= PRIVATE


@pytest.mark.parametrize(
    "source",
    [
        "env._queue.append(1)",
        "events, eid = env._queue, env._eid",
        "now = self.env._now",
        "event._ok, event._value = True, None",
        "setattr(event, '_value', 3)",
        "hasattr(event, '_defused')",
        "from simpy.events import _describe_frame",
        "import simpy\nclass Tick(simpy.Event):\n    def f(self):\n        return self._value",
        "from simpy.events import Event as E\nclass Tick(E):\n    def f(self):\n"
        "        self._ok = True",
        "from sim.engine.clock import Due\nclass End(Due):\n    def f(self):\n"
        "        return self._value",
        "from sim.engine.clock import Due\nclass End(Due):\n    pass\nclass Later(End):\n"
        "    def f(self):\n        return self._value",
        "class Pool:\n    def f(self, event):\n        return event._value",
    ],
)
def test_the_scan_finds_a_private_attribute_touched(source):
    assert simpy_internals(source)


@pytest.mark.parametrize(
    "source",
    [
        "class Pool:\n    def __init__(self, env):\n        self._env = env\n"
        "        self._queue = []",
        "now = env.now\nevent.callbacks.append(f)\nenv.schedule(event, 1, 0.5)",
        "x = event.value if event.triggered else None",
    ],
)
def test_the_scan_leaves_public_names_and_own_attributes_alone(source):
    assert simpy_internals(source) == []


def test_no_module_of_sim_but_clock_touches_simpy_internals():
    """What `sim.engine.clock` offers is all the other modules use of SimPy's insides."""
    modules = sorted(SIM.rglob("*.py"))
    assert CLOCK in modules
    found = {
        str(path.relative_to(ROOT)): hits
        for path in modules
        if path != CLOCK and (hits := simpy_internals(path.read_text()))
    }
    assert found == {}, f"SimPy's private attributes outside {CLOCK.relative_to(ROOT)}"
    assert simpy_internals(CLOCK.read_text())  # the scan sees them where they are


# --- Clock and Due ---------------------------------------------------------------------------


def processed(env: simpy.Environment, log: list, label: object) -> Due:
    return Due(env, label, lambda event: log.append((env.now, event.value)))


def test_schedule_at_keeps_the_very_float():
    """At now 1.1, a delay of 7.7 - 1.1 would land at 7.699999999999999."""
    env = Clock()
    log: list = []
    env.schedule_at(processed(env, log, "start"), NORMAL, 1.1)
    env.run()
    assert 1.1 + (7.7 - 1.1) != 7.7
    env.schedule_at(processed(env, log, "exact"), NORMAL, 7.7)
    env.run()
    assert log == [(1.1, "start"), (7.7, "exact")]


def test_schedule_at_refuses_the_past():
    env = Clock()
    env.schedule_at(Due(env, None, lambda _event: None), NORMAL, 2.0)
    env.run()
    with pytest.raises(ValueError, match="before now"):
        env.schedule_at(Due(env, None, lambda _event: None), NORMAL, 1.0)


def test_schedule_at_orders_by_time_priority_then_first_scheduled():
    env = Clock()
    log: list = []
    env.schedule_at(processed(env, log, "late"), NORMAL, 2.0)
    env.schedule_at(processed(env, log, "normal 1"), NORMAL, 1.0)
    env.schedule_at(processed(env, log, "after"), NORMAL + 1, 1.0)
    env.schedule_at(processed(env, log, "normal 2"), NORMAL, 1.0)
    env.schedule_at(processed(env, log, "urgent"), URGENT, 1.0)
    timeout = env.timeout(1.0)  # SimPy's own events share the queue and its tickets
    timeout.callbacks.append(lambda _event: log.append((env.now, "timeout")))
    env.run()
    order = [label for _time, label in log]
    assert order == ["urgent", "normal 1", "normal 2", "timeout", "after", "late"]


def test_queue_is_the_one_simpy_steps_through():
    """What a hot loop pushes is processed like what `schedule_at` pushed, in ticket order."""
    env = Clock()
    log: list = []
    queue, tickets = env.queue()
    assert queue == [] and env.peek() == float("inf")
    env.schedule_at(processed(env, log, "scheduled"), NORMAL, 3.0)
    heappush(queue, (3.0, NORMAL, next(tickets), processed(env, log, "pushed")))
    heappush(queue, (0.5, NORMAL, next(tickets), processed(env, log, "first")))
    assert queue[0][0] == env.peek() == 0.5
    env.run()
    assert log == [(0.5, "first"), (3.0, "scheduled"), (3.0, "pushed")]
    assert env.queue()[0] is queue


def test_due_is_triggered_at_birth_with_its_value():
    env = simpy.Environment()  # a Due needs no Clock
    seen: list = []
    due = Due(env, 42, seen.append)
    assert due.triggered and due.ok and due.value == 42 and not due.processed
    env.schedule(due, NORMAL, 2.5)
    env.run()
    assert seen == [due] and due.processed and env.now == 2.5


def test_due_waited_for_by_a_process():
    env = simpy.Environment()
    got: list = []

    def waiter():
        got.append((yield due))

    due = Due(env, "value", lambda _event: None)
    env.process(waiter())
    env.run()  # the process waits only once the Due is scheduled
    assert got == []
    env.schedule(due, NORMAL, 1.0)
    env.run()
    assert got == ["value"]


def test_a_processed_due_may_be_scheduled_again():
    """As the cooperative engine re-arms a step's end rather than make a new event."""
    env = Clock()
    times: list = []

    def again(event: Due) -> None:
        times.append(env.now)
        if len(times) < 3:
            event.callbacks = [again]
            env.schedule_at(event, NORMAL, env.now + 1.5)

    env.schedule_at(Due(env, None, again), NORMAL, 1.0)
    env.run()
    assert times == [1.0, 2.5, 4.0]
