"""WordPress REST argument parsing and validation.

Mirrors what ``WP_REST_Request`` does before a handler runs: PHP-style array
keys (``tags[]=3``, ``meta[key]=v``), comma lists, lenient scalar coercion
(``"5"`` is an integer, ``"true"`` a boolean), and one ``rest_invalid_param``
error listing every bad argument with ``data.params`` and ``data.details``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence, overload

from .site import WPError

_MISSING = object()
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
_PHP_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def php_params(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``a[]=1&a[]=2&m[k]=v`` style pairs into lists and dicts, as PHP does."""
    out: dict[str, Any] = {}
    for key, value in items:
        match = _PHP_KEY.match(key)
        if not match:
            out[key] = value
            continue
        name, rest = match.group(1), match.group(2)
        parts = re.findall(r"\[([^\[\]]*)\]", rest)
        target: Any = out
        path = [name] + parts
        for i, part in enumerate(path):
            last = i == len(path) - 1
            nxt_is_list = not last and (path[i + 1] == "" or path[i + 1].isdigit())
            if isinstance(target, list):
                if last:
                    target.append(value)
                else:
                    container: Any = [] if nxt_is_list else {}
                    target.append(container)
                    target = container
                continue
            if last:
                target[part] = value
            else:
                existing = target.get(part)
                if not isinstance(existing, (list, dict)):
                    existing = [] if nxt_is_list else {}
                    target[part] = existing
                target = existing
    return out


def parse_date(value: str) -> datetime | None:
    """``rest_parse_date``: naive times are in the site timezone (UTC here)."""
    match = _DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
        base = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    tz = match.group(8)
    if tz is None or tz in ("Z", "z"):
        return base.replace(tzinfo=timezone.utc)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return (base - sign * timedelta(hours=hours, minutes=minutes)).replace(tzinfo=timezone.utc)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
    return None


def as_list(value: Any) -> list[Any]:
    """``wp_parse_list``: a list stays a list; a string splits on commas and whitespace."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if value is None:
        return []
    return [part for part in re.split(r"[\s,]+", str(value)) if part != ""]


class Params:
    """Typed access to request arguments, collecting errors the way WordPress reports them."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.errors: dict[str, str] = {}
        self.details: dict[str, Any] = {}

    def has(self, name: str) -> bool:
        return name in self.raw

    def get_raw(self, name: str, default: Any = None) -> Any:
        return self.raw.get(name, default)

    def fail(self, name: str, message: str, code: str, data: Any = None) -> None:
        if name not in self.errors:
            self.errors[name] = message
            self.details[name] = {"code": code, "message": message, "data": data}

    def _value(self, name: str) -> Any:
        return self.raw.get(name, _MISSING)

    # With a default the answer is never None: a bad value is recorded as an error and the default returned.
    @overload
    def int(self, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int: ...
    @overload
    def int(
        self, name: str, default: None = None, minimum: int | None = None, maximum: int | None = None
    ) -> int | None: ...
    def int(
        self, name: str, default: int | None = None, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._value(name)
        if value is _MISSING:
            return default
        number = as_int(value)
        if number is None:
            self.fail(name, f"{name} is not of type integer.", "rest_invalid_type", {"param": name})
            return default
        if minimum is not None and maximum is not None and not minimum <= number <= maximum:
            self.fail(
                name, f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)", "rest_out_of_bounds"
            )
            return default
        if minimum is not None and number < minimum:
            self.fail(name, f"{name} must be greater than or equal to {minimum}", "rest_out_of_bounds")
            return default
        return number

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self._value(name)
        if value is _MISSING:
            return default
        flag = as_bool(value)
        if flag is None:
            self.fail(name, f"{name} is not of type boolean.", "rest_invalid_type", {"param": name})
            return default
        return flag

    @overload
    def str(self, name: str, default: str) -> str: ...
    @overload
    def str(self, name: str, default: None = None) -> str | None: ...
    def str(self, name: str, default: str | None = None) -> str | None:
        value = self._value(name)
        if value is _MISSING:
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.fail(name, f"{name} is not of type string.", "rest_invalid_type", {"param": name})
            return default
        return value

    @overload
    def enum(self, name: str, choices: Sequence[str], default: str) -> str: ...
    @overload
    def enum(self, name: str, choices: Sequence[str], default: None = None) -> str | None: ...
    def enum(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        if not self.has(name):
            return default
        value = self.str(name)
        if value is None:  # not a string: str() has recorded the error
            return default
        if value not in choices:
            self.fail(name, f"{name} is not one of {', '.join(choices)}.", "rest_not_in_enum")
            return default
        return value

    def int_list(self, name: str, default: list[int] | None = None) -> list[int] | None:
        value = self._value(name)
        if value is _MISSING:
            return default
        out = []
        for index, item in enumerate(as_list(value)):
            number = as_int(item)
            if number is None:
                self.fail(
                    name, f"{name}[{index}] is not of type integer.", "rest_invalid_type", {"param": f"{name}[{index}]"}
                )
                return default
            out.append(number)
        return out

    def str_list(self, name: str, default: list[str] | None = None) -> list[str] | None:
        value = self._value(name)
        if value is _MISSING:
            return default
        return [str(item) for item in as_list(value)]

    def enum_list(self, name: str, choices: Sequence[str], default: list[str] | None = None) -> list[str] | None:
        values = self.str_list(name, default=None)
        if values is None:
            return default
        for index, item in enumerate(values):
            if item not in choices:
                self.fail(name, f"{name}[{index}] is not one of {', '.join(choices)}.", "rest_not_in_enum")
                return default
        return values

    def date(self, name: str) -> Any:
        """A datetime, None for an explicit null, or ``MISSING`` when absent."""
        value = self._value(name)
        if value is _MISSING or value is None:
            return value
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            self.fail(name, "Invalid date.", "rest_invalid_date")
            return _MISSING
        return parsed

    def text_field(self, name: str) -> Any:
        """Title/content/excerpt: a string, or an object with ``raw``. Returns MISSING when absent."""
        value = self._value(name)
        if value is _MISSING:
            return value
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            raw = value.get("raw", _MISSING)
            return raw if isinstance(raw, str) else _MISSING
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.fail(name, f"{name} is not of type object.", "rest_invalid_type", {"param": name})
        return _MISSING

    def check(self) -> None:
        if self.errors:
            raise WPError(
                "rest_invalid_param",
                "Invalid parameter(s): " + ", ".join(self.errors),
                400,
                params=dict(self.errors),
                details=dict(self.details),
            )


MISSING = _MISSING
