"""msrest's JSON serialization, redone for the plain values an outgoing activity holds.

Why: Model.serialize() builds a Serializer and a class map per call; this walks `_attribute_map`
(private to msrest), cached per class. Figure (bench/bench_teams.py --shortcuts-each): on submit
turns (four activities out) 3.4-3.5 -> 2.5-2.8 ms bot CPU/turn, 20-25% of the shortcuts' speed-up.
Switch: FAST_SERIALIZE = False sends everything through `Model.serialize()`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import botbuilder.schema as schema
import botbuilder.schema.teams as teams_schema
from msrest.serialization import Model

CHECKED = {"msrest": ">=0.7,<0.8", "botbuilder-schema": ">=4.17,<4.18"}
FAST_SERIALIZE = True


# The same walk over `_attribute_map` for str/bool/int/float, lists, dicts and nested models; it gives
# up (_NotPlain) on anything else (datetimes, enums' odd values, readonly or flattened keys, XML
# models), for which msrest itself is used. tests/bot/teams/test_wire.py compares the two.
class _NotPlain(Exception):
    pass


def serialize(model: Model) -> dict[str, Any]:
    """`model.serialize()`, by the fast walk where it can (and FAST_SERIALIZE), else by msrest."""
    if FAST_SERIALIZE:
        try:
            return model_json(model)
        except _NotPlain:
            pass
    result: dict[str, Any] = model.serialize()
    return result


_FIELDS: dict[type, tuple[tuple[str, str, str], ...]] = {}
_SCALARS = {"str": str, "bool": bool, "int": int, "float": float}


def _fields(cls: type) -> tuple[tuple[str, str, str], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        attribute_map: dict[str, dict[str, str]] = getattr(cls, "_attribute_map", {})
        if getattr(cls, "_validation", None) or hasattr(cls, "_xml_map") or any(
            "." in d["key"] or not d["key"] for d in attribute_map.values()
        ):
            raise _NotPlain(cls.__name__)
        fields = _FIELDS[cls] = tuple((attr, d["key"], d["type"]) for attr, d in attribute_map.items())
    return fields


def model_json(model: Model) -> dict[str, Any]:
    """`model.serialize()` for plain values; raises _NotPlain where msrest must do it."""
    out: dict[str, Any] = {}
    for attr, key, kind in _fields(type(model)):
        value = getattr(model, attr)
        if value is not None:
            out[key] = _typed(value, kind)
    return out


def _typed(value: Any, kind: str) -> Any:
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        if type(value) is scalar:
            return value
        if kind == "str" and isinstance(value, Enum) and type(value.value) is str:
            return value.value
        raise _NotPlain(kind)
    if kind == "object":
        return _object(value)
    if kind[0] == "[" and kind[-1] == "]" and type(value) is list:
        inner = kind[1:-1]
        return [None if v is None else _typed(v, inner) for v in value]
    if kind[0] == "{" and kind[-1] == "}" and type(value) is dict:
        inner = kind[1:-1]
        return {_key(k): None if v is None else _typed(v, inner) for k, v in value.items()}
    if isinstance(value, Model) and kind in _MODEL_NAMES:
        return model_json(value)
    raise _NotPlain(kind)


def _object(value: Any) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool or kind is float:
        return value
    if kind is dict:
        return {_key(k): _object(v) for k, v in value.items()}
    if kind is list:
        return [_object(v) for v in value]
    if isinstance(value, Model):
        return model_json(value)
    raise _NotPlain(kind.__name__)


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _NotPlain("key")
    return key


# The model classes an `_attribute_map` may name (an enum's name goes to msrest).
_MODEL_NAMES = {name for module in (schema, teams_schema) for name, cls in vars(module).items()
                if isinstance(cls, type) and issubclass(cls, Model)}
