"""The look shared by every picture: size, colours, units, and turning a figure into PNG.

Pictures are laid out in pixels at `DPI` so their size is plain arithmetic,
and saved without matplotlib's version stamp so equal runs give equal bytes.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sim.scenario.model import STEP_KINDS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "KIND_COLOURS",
    "MAKESPAN_COLOUR",
    "WAIT_FOR_HOST",
    "WAIT_FOR_HOST_COLOUR",
    "colour",
    "literal_text",
    "shared_colour",
    "short",
    "time_unit",
    "to_png",
]

DPI = 100
#: Colour of each step kind, by name; a kind missing here gets one from `_SPARE`.
KIND_COLOURS: dict[str, str] = {
    "host": "#1f5fa8",
    "wait": "#bcc8d6",
    "block": "#e07b22",
    "native": "#2e7d32",
}
_SPARE = ("#7a4fa3", "#2a9d8f", "#b5485d", "#8c6d31")
#: Label and colour of the time a game was ready for a host step but none was free.
WAIT_FOR_HOST = "waiting for the host"
WAIT_FOR_HOST_COLOUR = "#f0a3a3"
MAKESPAN_COLOUR = "#222222"
#: Colours of the resources and queues a scenario declares, in the order it declares them.
SHARED_COLOURS = ("#2a9d8f", "#7a4fa3", "#c9a227", "#5a9e3a", "#3d7ea6", "#8c6d31")


def time_unit(seconds: float) -> tuple[str, float]:
    """The unit a person would read `seconds` in (h, min, s, ms, µs) and its size in seconds."""
    for name, size in (("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if seconds >= 2 * size:
            return name, size
    return ("s", 1.0) if seconds <= 0 else ("µs", 1e-6)


def colour(kind: str) -> str:
    """A step kind's colour, by its name in STEP_KINDS."""
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    return _SPARE[STEP_KINDS.index(kind) % len(_SPARE)]


def shared_colour(index: int) -> str:
    """The colour of a declared resource or queue, by its place among them."""
    return SHARED_COLOURS[index % len(SHARED_COLOURS)]


def short(seconds: float) -> str:
    """`365.5` → `6.09 min`: a span in the unit a person would say it in."""
    unit, size = time_unit(seconds)
    return f"{seconds / size:.3g} {unit}"


P = ParamSpec("P")
R = TypeVar("R")


def literal_text(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw with `$` read as a dollar sign, not as the start of a formula.

    Names and titles come from scenario files: `name: "$\\alpha_$"` must be
    shown, not handed to mathtext, which would refuse it and stop the run.
    """

    @functools.wraps(draw)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return drawn


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, without the version stamp, so equal runs give equal files."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a name's emoji the font lacks is drawn as a box, quietly
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        # the lightest zlib level: 10 % larger files, a tenth of the drawing's time saved
        fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None},
                    pil_kwargs={"compress_level": 1})  # fmt: skip
    return buffer.getvalue()
