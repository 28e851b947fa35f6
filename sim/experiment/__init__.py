"""The experiment layer: one run, replications and sweeps, and where they play.

A run expands a scenario into a workload once and plays each schedule on it
(`runs`); replications repeat it on independent random streams (`streams`,
`replications`); a sweep plays it at every point of a grid of overrides
(`sweeps`). Executors decide where independent runs play: this process, a
process pool or Dask (`executors`); `progress` and `preload` keep the waiting
short and visible.
"""
