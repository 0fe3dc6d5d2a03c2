"""Incident settings as every model of the world reads them: ``true`` (the defaults), ``false`` (all off)
or ``{name: bool | {field: value}}`` over the current settings. An object turns its incident on unless
it says ``"enabled": false``; each field is checked against its default's type."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping
from typing import Any

Settings = dict[str, dict[str, Any]]
Check = Callable[[str, dict[str, Any]], None]  # raises ValueError when an incident's settings do not hold


def merge_incidents(
    spec: Any,
    current: Settings | None,
    defaults: Settings,
    types: Mapping[str, Any],
    *,
    check: Check,
    elsewhere: Collection[str] | None = None,
) -> Settings:
    """The settings after ``spec``. Names another model reads are left to it: every unknown name when
    ``elsewhere`` is None, else the names in ``elsewhere``, and any other unknown name is refused."""
    base = copy.deepcopy(current if current is not None else defaults)
    if spec is True:
        return copy.deepcopy(defaults)
    if spec is False:
        for incident in base.values():
            incident["enabled"] = False
        return base
    if not isinstance(spec, dict):
        raise ValueError("incidents must be true, false or an object keyed by incident name")
    for name, value in spec.items():
        if name not in defaults:
            if elsewhere is None or name in elsewhere:
                continue
            raise ValueError(f"unknown incident {name!r}; expected one of {', '.join([*defaults, *elsewhere])}")
        if isinstance(value, bool):
            base[name]["enabled"] = value
            continue
        if not isinstance(value, dict):
            raise ValueError(f"incident {name} must be true, false or an object")
        for key, item in value.items():
            if key not in defaults[name]:
                raise ValueError(f"incident {name} has no setting {key!r}; expected {', '.join(defaults[name])}")
            if isinstance(item, bool) and key != "enabled" or not isinstance(item, types[key]):
                raise ValueError(f"incidents.{name}.{key} has the wrong type")
            base[name][key] = item
        check(name, base[name])
        if "enabled" not in value:
            base[name]["enabled"] = True
    return base
