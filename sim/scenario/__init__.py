"""The scenario layer: the format, and from a file to a checked `Scenario`.

Units and durations, distributions, schedules, the scenario model and its
JSON Schema; reading a file safely (guarded YAML, the line of every key,
limits), overrides by dotted path and the `sweep:` grammar; where scenarios
are found. Nothing here plays anything: every other layer builds on this one.
"""
