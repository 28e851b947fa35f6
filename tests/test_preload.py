"""`sim.experiment.preload`: modules imported in the background are there afterwards; a
missing one is left for the import that really needs it."""

from __future__ import annotations

import sys

from sim.experiment.preload import preload


def test_warm_imports_the_modules_and_skips_a_missing_one() -> None:
    """A module not imported before is in sys.modules once the thread ends; a module that
    does not exist neither raises in the thread nor stops the ones after it."""
    name = "tabnanny"  # a standard module nothing in sim imports
    sys.modules.pop(name, None)
    thread = preload(["sim_no_such_module", name])
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert name in sys.modules
    assert "sim_no_such_module" not in sys.modules
