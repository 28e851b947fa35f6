"""The scenario format as a JSON Schema, generated from the models `sim` validates with.

Editors that speak the YAML language server read it and flag a misspelt field,
a count of `2.5` or an unknown unit while the file is typed. pydantic writes
the schema from the models; the few shapes that the models' validators
accept beyond their fields are added here, each under a comment naming the
validator it mirrors, so the schema never refuses a file that `sim` accepts
(the fuzzing test checks that on thousands of files).
"""

from __future__ import annotations

from typing import Any

from sim.scenario.model import PlayerGroup, Scenario, Step
from sim.scenario.schedules import SCHEDULE_KINDS, Schedule

__all__ = ["DIALECT", "scenario_schema"]

DIALECT = "http://json-schema.org/draft-07/schema#"


def _without_catch_alls(node: Any) -> Any:
    """The schema with `{}` (anything) dropped from every `anyOf` and `oneOf`."""
    if isinstance(node, list):
        return [_without_catch_alls(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned = {key: _without_catch_alls(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        if key in cleaned:
            cleaned[key] = [branch for branch in cleaned[key] if branch != {}]
    return cleaned


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, draft 7: what editors' YAML support speaks."""
    schema = Scenario.model_json_schema(mode="validation")
    defs = schema["$defs"]
    # Scenario._name_groups: a group without a name is called group-1, group-2, …
    group = defs[PlayerGroup.__name__]
    group["required"] = [name for name in group.get("required", []) if name != "name"]
    if not group["required"]:
        del group["required"]
    # Step._one_kind and Schedule._exactly_one: one key, naming the kind (a `with` step
    # also holds its `steps`).
    defs[Schedule.__name__].update(minProperties=1, maxProperties=1)
    step = defs[Step.__name__]
    step.update(minProperties=1, maxProperties=2)
    step["oneOf"] = [
        {"required": ["with", "steps"], "maxProperties": 2},
        {"not": {"anyOf": [{"required": ["with"]}, {"required": ["steps"]}]}, "maxProperties": 1},
    ]
    # Schedule._from_name: a schedule may be just its kind, `cooperative`.
    mapping = defs[Schedule.__name__]
    defs[Schedule.__name__] = {
        "title": mapping.pop("title", Schedule.__name__),
        "description": mapping.pop("description", ""),
        "anyOf": [{"enum": list(SCHEDULE_KINDS)}, mapping],
    }
    # distributions.Duration: a mapping is a distribution picked by its `dist:` key,
    # and a catch-all branch (`{}` in the schema) exists only to word the error.
    for model in defs.values():
        if "dist" in model.get("properties", {}):
            model["required"] = ["dist", *model.get("required", [])]
    schema = _without_catch_alls(schema)
    return {
        "$schema": DIALECT,
        "title": "sim scenario",
        **{key: value for key, value in schema.items() if key != "title"},
    }
