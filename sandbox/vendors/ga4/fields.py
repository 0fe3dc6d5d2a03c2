"""Reading a Data API request as proto3 JSON: camelCase or snake_case field names, int64 values as
strings, enums as integers (google-api-core sends ``use_integers_for_enums``) or as names."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from ..google.errors import GoogleError

MATCH_TYPES = {
    0: "EXACT",
    1: "EXACT",
    2: "BEGINS_WITH",
    3: "ENDS_WITH",
    4: "CONTAINS",
    5: "FULL_REGEXP",
    6: "PARTIAL_REGEXP",
}
OPERATIONS = {1: "EQUAL", 2: "LESS_THAN", 3: "LESS_THAN_OR_EQUAL", 4: "GREATER_THAN", 5: "GREATER_THAN_OR_EQUAL"}
ORDER_TYPES = {0: "ALPHANUMERIC", 1: "ALPHANUMERIC", 2: "CASE_INSENSITIVE_ALPHANUMERIC", 3: "NUMERIC"}
AGGREGATIONS = {1: "TOTAL", 4: "COUNT", 5: "MINIMUM", 6: "MAXIMUM"}


def get_field(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    """A field by its camelCase name, else by its snake_case one."""
    if camel in obj:
        return obj[camel]
    return obj.get(snake(camel), default)


def flag(obj: dict[str, Any], camel: str) -> bool:
    value = get_field(obj, camel, False)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def int_field(obj: dict[str, Any], camel: str, default: int) -> int:
    value = get_field(obj, camel)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GoogleError(400, f"Invalid value at '{snake(camel)}' ({value!r}): expected an integer.") from None


def snake(camel: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)


def enum_name(value: Any, names: dict[int, str], where: str, default: str) -> str:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        value = None
    elif isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        name = names.get(int(value))
        if name is not None:
            return name
    elif isinstance(value, str) and value in names.values():
        return value
    raise GoogleError(
        400, f"Invalid value at '{where}' ({value!r}): not one of {', '.join(sorted(set(names.values())))}."
    )


def field_names(body: dict[str, Any], field: str) -> list[str]:
    items = get_field(body, field, []) or []
    if not isinstance(items, list):
        raise GoogleError(400, f"Invalid value at '{snake(field)}': expected a list.")
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise GoogleError(400, f"Field {field[:-1]} must have a name.")
        names.append(name)
    return names


def parse_date(value: Any, today: date, which: str) -> date:
    if not isinstance(value, str) or not value:
        raise GoogleError(
            400, f"Field {which} is required in every dateRange. Use YYYY-MM-DD, NdaysAgo, yesterday, or today."
        )
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    relative = re.fullmatch(r"(\d+)daysAgo", value)
    if relative:
        return today - timedelta(days=int(relative.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GoogleError(
        400, f"Invalid {which} '{value}' in dateRanges. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, or today."
    )
