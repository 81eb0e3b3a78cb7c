"""The tables the page shares with Python: tables.js says what cortexkg.tables says, and
those agree with the modules that use them."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

from cortexkg import AllocationEngine, CortexKGConfig
from cortexkg.columns import ALLOCATED, AVAILABLE, REFRACTORY, STATE_NAMES
from cortexkg.config import ENGINE_DEFAULTS
from cortexkg.tables import API_OPTIONS, javascript_module, javascript_tables

_EXPORT = re.compile(r"^export const (\w+) = (?:Object\.freeze\((.*)\)|(.*));$", re.M)


def exported(module: str) -> dict:
    """name -> value of each ``export const`` of a generated module."""
    return {m[1]: json.loads(m[2] or m[3]) for m in _EXPORT.finditer(module)}


def test_tables_js_exports_exactly_the_python_tables():
    module = javascript_module()
    assert exported(module) == javascript_tables()
    assert len(re.findall(r"^export ", module, re.M)) == len(javascript_tables())


def test_the_column_states_are_the_codes_the_engine_stores():
    tables = javascript_tables()
    assert (tables["AVAILABLE"], tables["ALLOCATED"], tables["REFRACTORY"]) == (
        AVAILABLE, ALLOCATED, REFRACTORY)
    assert [tables["STATE_NAMES"][code] for code in (AVAILABLE, ALLOCATED, REFRACTORY)] == [
        "available", "allocated", "refractory"] == list(STATE_NAMES)
    engine = AllocationEngine(1)
    assert engine.column(0)["state"] == STATE_NAMES[AVAILABLE]


def test_the_api_defaults_are_the_engine_defaults_under_the_api_names():
    defaults = javascript_tables()["ENGINE_DEFAULTS"]
    assert defaults.pop("name") == "default"
    assert {API_OPTIONS[option]: value for option, value in defaults.items()} == {
        field: value for field, value in ENGINE_DEFAULTS.items() if field != "enable_simd"}


def test_every_default_is_the_one_the_facade_and_the_engine_apply():
    config = CortexKGConfig()
    assert dataclasses.asdict(config) == ENGINE_DEFAULTS
    parameters = inspect.signature(AllocationEngine).parameters
    assert {name: parameters[name].default for name in ENGINE_DEFAULTS
            if name != "column_count"} == {
        name: value for name, value in ENGINE_DEFAULTS.items() if name != "column_count"}
