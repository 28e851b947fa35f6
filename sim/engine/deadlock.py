"""A run in which some games wait for ever: who waits on what, at the last instant.

The engine runs out of events while games have not ended only when each of
them waits for something no running game will ever give: a queue nobody
puts into any more, units held by a game that waits itself, children queued
behind their parent in a full pool. That is a property of the scenario under
that schedule, not an error of the file, so it is its own exception, and the
command line exits 1 with the report.
"""

from __future__ import annotations

from sim.scenario.units import format_seconds

__all__ = ["Deadlock"]

#: Waits listed in the report; the rest are counted.
SHOWN = 8


class Deadlock(Exception):
    """Games of one schedule that can never go on, each with what it waits for."""

    def __init__(self, schedule: str, at: float, waits: list[str]) -> None:
        self.schedule = schedule
        self.at = at
        self.waits = waits
        shown = [f"  {wait}" for wait in waits[:SHOWN]]
        if len(waits) > SHOWN:
            shown.append(f"  … and {len(waits) - SHOWN} more")
        games = "a game waits" if len(waits) == 1 else f"{len(waits)} waits never end"
        super().__init__(
            f"deadlock under {schedule} at t = {format_seconds(at)}: {games}:\n" + "\n".join(shown)
        )

    def __reduce__(self) -> tuple:
        """Pickled whole, so that a worker process can send it back."""
        return (Deadlock, (self.schedule, self.at, self.waits))
