"""Cursors for vendors that page by number (an offset or a page): the number, as a string."""

from __future__ import annotations

from .errors import InvalidRequest


def number_cursor(cursor: str | None, first: int = 0) -> int:
    """The number a `next_cursor` of ours carries; `first` when there is none."""
    if cursor is None:
        return first
    if not cursor.isdigit() or int(cursor) < first:
        raise InvalidRequest(
            f"'{cursor}' is not a cursor this tool returned.",
            hint="Pass next_cursor from the previous answer unchanged, or leave it out.",
        )
    return int(cursor)
