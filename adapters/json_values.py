"""Vendor JSON as the type checker sees it: objects are `dict[str, Any]`, and these guards narrow to them.

A bare `isinstance(value, dict)` on parsed JSON narrows to a dict of unknown types; these say
what a JSON object or array is, so the `.get` chains that read vendor payloads stay typed.
"""

from typing import Any, TypeGuard

JsonObject = dict[str, Any]
"""A JSON object as parsed: string keys, values of any JSON type."""


def is_object(value: object) -> TypeGuard[JsonObject]:
    return isinstance(value, dict)


def is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)
