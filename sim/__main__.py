"""`python -m sim` is the `sim` command."""

import gc

gc.disable()  # importing the command allocates what lives to the end: nothing to collect
from sim.cli import main  # noqa: E402

gc.enable()  # and `main` collects less often until the play (`sim.cli.collector`)
main()
