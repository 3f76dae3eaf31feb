"""Search: one small Protocol, two implementations (SQLite file embedded; Elasticsearch API)."""

from search.base import PageHit, SearchHit, SearchIndex, SearchResults
from search.sqlite import SqliteIndex

__all__ = ["PageHit", "SearchHit", "SearchIndex", "SearchResults", "SqliteIndex"]
