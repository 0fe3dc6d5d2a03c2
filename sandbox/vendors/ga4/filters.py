"""FilterExpressions of the Data API (``dimensionFilter``, ``metricFilter``), compiled to row predicates.

A row is a dict of dimension values (strings) or of metric values (numbers) by API name.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..google.errors import GoogleError
from .fields import MATCH_TYPES, OPERATIONS, enum_name, flag, get_field
from .metadata import SCHEMA_URL

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


def compile_filter(expr: Any, valid: Callable[[str], bool], kind: str, used: set[str], depth: int = 0) -> Predicate:
    where = "dimensionFilter" if kind == "dimension" else "metricFilter"
    if not isinstance(expr, dict) or depth > 20:
        raise GoogleError(400, f"Invalid {where}: expected a FilterExpression object.")
    for group, combine in (("andGroup", all), ("orGroup", any)):
        value = get_field(expr, group)
        if value is not None:
            parts = [
                compile_filter(e, valid, kind, used, depth + 1) for e in (get_field(value, "expressions", []) or [])
            ]
            return lambda row, parts=parts, combine=combine: combine(p(row) for p in parts)
    inner = get_field(expr, "notExpression")
    if inner is not None:
        part = compile_filter(inner, valid, kind, used, depth + 1)
        return lambda row: not part(row)
    spec = get_field(expr, "filter")
    if spec is None:
        return lambda row: True
    name = get_field(spec, "fieldName")
    if not isinstance(name, str) or not valid(name):
        raise GoogleError(
            400, f"Field {name} is not a valid {kind}. For a list of valid dimensions and metrics, see {SCHEMA_URL}"
        )
    used.add(name)
    string = get_field(spec, "stringFilter")
    if string is not None:
        match = enum_name(
            get_field(string, "matchType"), MATCH_TYPES, f"{where}.filter.string_filter.match_type", "EXACT"
        )
        case = flag(string, "caseSensitive")
        wanted = str(get_field(string, "value", ""))
        if match in ("FULL_REGEXP", "PARTIAL_REGEXP"):
            try:
                pattern = re.compile(wanted, 0 if case else re.IGNORECASE)
            except re.error as exc:
                raise GoogleError(400, f"Invalid regular expression '{wanted}' for field {name}: {exc}.") from None
            test = pattern.fullmatch if match == "FULL_REGEXP" else pattern.search
            return lambda row: test(str(row.get(name, ""))) is not None
        folded = wanted if case else wanted.lower()
        ops: dict[str, Callable[[str], bool]] = {
            "EXACT": lambda v: v == folded,
            "BEGINS_WITH": lambda v: v.startswith(folded),
            "ENDS_WITH": lambda v: v.endswith(folded),
            "CONTAINS": lambda v: folded in v,
        }
        op = ops[match]
        return lambda row: op(str(row.get(name, "")) if case else str(row.get(name, "")).lower())
    in_list = get_field(spec, "inListFilter")
    if in_list is not None:
        case = flag(in_list, "caseSensitive")
        values = {str(v) if case else str(v).lower() for v in (get_field(in_list, "values", []) or [])}
        return lambda row: (str(row.get(name, "")) if case else str(row.get(name, "")).lower()) in values
    numeric = get_field(spec, "numericFilter")
    if numeric is not None:
        op = enum_name(get_field(numeric, "operation"), OPERATIONS, f"{where}.filter.numeric_filter.operation", "")
        if not op:
            raise GoogleError(400, f"Field {name}: numericFilter needs an operation.")
        target = _number(get_field(numeric, "value"), name)
        compare: Callable[[float], bool] = {
            "EQUAL": lambda v: v == target,
            "LESS_THAN": lambda v: v < target,
            "LESS_THAN_OR_EQUAL": lambda v: v <= target,
            "GREATER_THAN": lambda v: v > target,
            "GREATER_THAN_OR_EQUAL": lambda v: v >= target,
        }[op]
        return _numeric(name, compare)
    between = get_field(spec, "betweenFilter")
    if between is not None:
        low, high = _number(get_field(between, "fromValue"), name), _number(get_field(between, "toValue"), name)
        return _numeric(name, lambda v: low <= v <= high)
    if get_field(spec, "emptyFilter") is not None:
        return lambda row: str(row.get(name, "")) in ("", "(not set)")
    raise GoogleError(
        400, f"Filter on field {name} has no stringFilter, inListFilter, numericFilter, betweenFilter or emptyFilter."
    )


def _numeric(name: str, test: Callable[[float], bool]) -> Predicate:
    """Rows whose ``name`` value is a number passing ``test``."""

    def predicate(row: Row) -> bool:
        number = as_number(row.get(name))
        return number is not None and test(number)

    return predicate


def _number(value: Any, name: str) -> float:
    if value is None:
        return 0.0  # proto3 JSON leaves out an empty NumericValue
    if isinstance(value, dict):
        for key in ("int64Value", "int64_value", "doubleValue", "double_value"):
            if key in value:
                try:
                    return float(value[key])
                except (TypeError, ValueError):
                    break
        else:
            return 0.0  # proto3 JSON leaves out a zero value
    raise GoogleError(400, f"Field {name}: the filter's value must be a NumericValue (int64Value or doubleValue).")


def as_number(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
