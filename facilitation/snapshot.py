"""Frozen values as JSON text, and back. Pure, no I/O.

A purged séance keeps what its report was built from (results, proposals on the board,
votes) as a snapshot of the same dataclasses the report reads. Dataclasses are written
with their class name and read back only into the classes given; tuples come back as
tuples, mappings as dicts (their keys keep their type), datetimes as datetimes. A field
added later with a default still reads an old snapshot; a field since removed is ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

KIND, MAP, TIME = "__", "__map__", "__dt__"


class SnapshotError(ValueError):
    """A snapshot names a class it may not build, or is not one at all."""


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {KIND: type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, dt.datetime):
        return {TIME: value.isoformat()}
    if isinstance(value, Mapping):
        return {MAP: [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot freeze {type(value).__name__}")


def loads(text: str, kinds: Iterable[type]) -> Any:
    known = {kind.__name__: kind for kind in kinds}
    try:
        return _decode(json.loads(text), known)
    except (ValueError, TypeError, KeyError) as error:
        raise SnapshotError(str(error)) from error


def _decode(value: Any, known: dict[str, type]) -> Any:
    if isinstance(value, list):
        return tuple(_decode(item, known) for item in value)
    if not isinstance(value, dict):
        return value
    if TIME in value:
        return dt.datetime.fromisoformat(value[TIME])
    if MAP in value:
        return {_decode(k, known): _decode(v, known) for k, v in value[MAP]}
    kind = known.get(str(value.get(KIND)))
    if kind is None:
        raise SnapshotError(f"unknown kind {value.get(KIND)!r}")
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    return kind(**{key: _decode(item, known) for key, item in value.items() if key in names})
