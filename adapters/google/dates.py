"""Date ranges as Google's reporting APIs take them, checked before any call is made."""

from __future__ import annotations

import re
from datetime import date, timedelta

from adapters.errors import InvalidRequest

_RELATIVE = re.compile(r"^(\d{1,4})daysAgo$")
EARLIEST = date(2015, 8, 14)  # GA4 and Search Console accept no earlier date


def resolve(value: str, today: date, *, field: str, relative: bool = True) -> date:
    """'YYYY-MM-DD', or (GA4) 'today', 'yesterday', 'NdaysAgo', as a date."""
    text = value.strip()
    if relative:
        if text == "today":
            return today
        if text == "yesterday":
            return today - timedelta(days=1)
        match = _RELATIVE.match(text)
        if match:
            return today - timedelta(days=int(match.group(1)))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        forms = "YYYY-MM-DD, 'today', 'yesterday' or 'NdaysAgo'" if relative else "YYYY-MM-DD"
        raise InvalidRequest(f"{field} '{value}' is not a date: use {forms}.") from None
    if day < EARLIEST:
        raise InvalidRequest(f"{field} {day} is before {EARLIEST}, the earliest date Google reports.")
    return day


def check_range(
    start: str, end: str, today: date, *, label: str = "date range", relative: bool = True
) -> tuple[date, date]:
    first = resolve(start, today, field=f"{label} start", relative=relative)
    last = resolve(end, today, field=f"{label} end", relative=relative)
    if first > last:
        raise InvalidRequest(
            f"The {label} starts ({start}) after it ends ({end}).", hint="Swap the dates or fix the one that is wrong."
        )
    return first, last
