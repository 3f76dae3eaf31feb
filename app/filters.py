"""Search filters as users write them, `field=value`, and the sort: one parser for the CLI,
the API and the search page."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.errors import SohoaError
from search.base import FACETS, MAX_OFFSET, RESULT_WINDOW, SORTS

SYNTAX = f"field=value, field one of: {', '.join(FACETS)}"
SORT_HELP = "relevance, date (newest first) or date_asc (oldest first)"
OFFSET_HELP = f"Hits to skip: at most {MAX_OFFSET:,} (as GET /search); narrow with --filter."


def within_window(offset: int, limit: int) -> int:
    """The limit cut so that offset + limit stays in the hits an index answers (10,000)."""
    return max(0, min(limit, RESULT_WINDOW - offset))


class BadFilter(SohoaError):
    """A filter that is not `field=value` with a known field: refused, never ignored."""

    code = "bad_filter"
    exit_code = 2  # a usage error, as the CLI's own
    http_status = 422


class BadSort(BadFilter):
    """A sort that is not one of SORTS: refused, never ignored."""

    code = "bad_sort"


def parse_sort(sort: str) -> str:
    if sort not in SORTS:
        raise BadSort(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    return sort


def parse_filters(items: Iterable[str]) -> dict[str, str]:
    """`["level=district", "year=2023"]` -> `{"level": "district", "year": "2023"}`.

    >>> parse_filters(["level = district"])
    {'level': 'district'}
    """
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise BadFilter(f"filter {item!r} must look like {SYNTAX}")
        if name not in FACETS:
            raise BadFilter(f"unknown filter field {name!r} in {item!r}; use {SYNTAX}")
        if parsed.get(name, value) != value:
            raise BadFilter(f"filter field {name!r} given twice with different values")
        parsed[name] = value
    return parsed
