"""Search: one small Protocol, two implementations (SQLite FTS5 embedded; Elasticsearch)."""

from search.base import PageHit, SearchHit, SearchIndex, SearchResults
from search.fold import fold
from search.sqlite import SqliteIndex

__all__ = ["PageHit", "SearchHit", "SearchIndex", "SearchResults", "SqliteIndex", "fold"]
