"""Elasticsearch-API index (Elasticsearch or OpenSearch), the production twin of SqliteIndex.

Both backends tokenize with the project's own `tokens()`/`fold()` before the server sees the
text (whitespace analyzer), so nothing depends on analysis plugins and both give the same hits.
Snippets come from the same `make_snippet` on the stored page text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.errors import SohoaError
from schemas.models import Document
from search.base import FACETS, PageHit, SearchHit, SearchResults, facet_values, metadata_text
from search.fold import fold, nfc, query_terms, tokens
from search.highlight import make_snippet

ALIAS = "sohoa-documents"
EXACT_BOOST = 2.0
MAX_PAGES_PER_HIT = 3
BULK_CHUNK = 500
FACET_SIZE = 50

_TEXT = {"type": "text", "analyzer": "whitespace", "norms": True}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "source_name": {"type": "keyword"},
        "status": {"type": "keyword"},
        "page_count": {"type": "integer"},
        "issued_date": {"type": "date", "ignore_malformed": True},
        "metadata": {"type": "object", "enabled": False},
        **{name: {"type": "keyword"} for name in FACETS if name != "status"},
        "exact": _TEXT,
        "folded": _TEXT,
        "pages": {
            "type": "nested",
            "properties": {
                "page_no": {"type": "integer"},
                "text": {"type": "text", "index": False},
                "exact": _TEXT,
                "folded": _TEXT,
            },
        },
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}


class SearchBackendError(SohoaError):
    code = "search_backend"
    retryable = True


def exact_tokens(text: str) -> str:
    return " ".join(tokens(nfc(text).lower()))


def folded_tokens(text: str) -> str:
    return " ".join(tokens(fold(text)))


def to_source(doc: Document) -> dict[str, Any]:
    """The indexed form of a record: facets, tokenized text, pages with their raw text."""
    whole = metadata_text(doc) + "\n" + doc.text
    facets = facet_values(doc)
    issued = doc.metadata.issued_date.value
    return {
        "source_name": doc.source_name,
        "page_count": doc.page_count,
        "issued_date": str(issued) if issued else None,
        "metadata": json.loads(json.dumps(doc.metadata.values(), ensure_ascii=False, default=str)),
        **facets,
        "exact": exact_tokens(whole),
        "folded": folded_tokens(whole),
        "pages": [
            {
                "page_no": p.page_no,
                "text": nfc(p.text),
                "exact": exact_tokens(p.text),
                "folded": folded_tokens(p.text),
            }
            for p in doc.pages
            if p.text
        ],
    }


def make_client(url: str) -> Any:
    """A client for the server at `url`: opensearch-py for OpenSearch, the official
    elasticsearch client (of the server's major version) for Elasticsearch."""
    from opensearchpy import OpenSearch

    probe = OpenSearch(hosts=[url], timeout=30, max_retries=3, retry_on_timeout=True)
    try:
        info = probe.info()
    except Exception as e:
        raise SearchBackendError(f"search server at {url} cannot be reached: {e}") from e
    if info.get("version", {}).get("distribution") == "opensearch":
        return probe
    from elasticsearch import Elasticsearch  # pinned by the operator to the server's major

    return Elasticsearch(url, request_timeout=30, max_retries=3, retry_on_timeout=True)


class ElasticIndex:
    def __init__(self, url: str, alias: str = ALIAS, client: Any = None) -> None:
        self.url = url
        self.alias = alias
        self.client = client or make_client(url)
        self._put_template()
        self._ensure_alias()

    # -- index lifecycle -------------------------------------------------------------------

    def _new_index_name(self) -> str:
        return f"{self.alias}-v{time.time_ns() // 1_000_000}"

    def _put_template(self) -> None:
        """Every versioned index behind the alias gets the same settings and mappings."""
        self.client.indices.put_index_template(
            name=f"{self.alias}-template",
            body={
                "index_patterns": [f"{self.alias}-v*"],
                "template": {"settings": {"index": SETTINGS}, "mappings": MAPPINGS},
            },
        )

    def _create_index(self, name: str | None = None) -> str:
        name = name or self._new_index_name()
        self.client.indices.create(index=name)
        return name

    def _ensure_alias(self) -> None:
        """First use: the first index and its alias. Several worker processes start at once, so
        the first index has a fixed name and whoever creates it second simply uses it."""
        if self.client.indices.exists_alias(name=self.alias):
            return
        first = f"{self.alias}-v0"
        try:
            self._create_index(first)
        except Exception as e:
            if "resource_already_exists_exception" not in str(e):
                raise
        self.client.indices.put_alias(index=first, name=self.alias)

    def _alias_targets(self) -> list[str]:
        return list(self.client.indices.get_alias(name=self.alias).keys())

    # -- writes ------------------------------------------------------------------------------

    def _bulk(self, index: str, actions: Iterable[dict[str, Any]]) -> int:
        from opensearchpy.helpers import streaming_bulk

        count = 0
        for ok, item in streaming_bulk(
            self.client,
            actions,
            index=index,
            chunk_size=BULK_CHUNK,
            max_retries=5,
            initial_backoff=1,
            raise_on_error=False,
        ):
            if not ok:
                raise SearchBackendError(f"indexing failed: {json.dumps(item)[:300]}")
            count += 1
        return count

    @staticmethod
    def _actions(docs: Iterable[Document]) -> Iterator[dict[str, Any]]:
        for doc in docs:
            yield {"_op_type": "index", "_id": doc.id, "_source": to_source(doc)}

    def index(self, docs: Iterable[Document]) -> int:
        count = self._bulk(self.alias, self._actions(docs))
        self.client.indices.refresh(index=self.alias)
        return count

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Build a fresh index from `docs`, then swap the alias to it at once (no downtime)."""
        old = self._alias_targets()
        new = self._create_index()
        try:
            count = self._bulk(new, self._actions(docs))
            self.client.indices.refresh(index=new)
        except BaseException:
            self.client.indices.delete(index=new)
            raise
        swap = [{"add": {"index": new, "alias": self.alias}}]
        swap += [{"remove": {"index": name, "alias": self.alias}} for name in old]
        self.client.indices.update_aliases(body={"actions": swap})
        for name in old:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        return count

    def delete(self, doc_id: str) -> None:
        self.client.delete(index=self.alias, id=doc_id, refresh=True, ignore=[404])

    def clear(self) -> None:
        self.rebuild([])

    def count(self) -> int:
        return int(self.client.count(index=self.alias)["count"])

    def close(self) -> None:
        self.client.close()

    # -- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        filters: dict[str, str] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> SearchResults:
        folded, exact = query_terms(query)
        body = self._query_body(folded, exact, filters or {})
        body.update(from_=offset, size=limit)
        body["from"] = body.pop("from_")
        response = self.client.search(index=self.alias, body=body)
        hits = [self._hit(h, folded) for h in response["hits"]["hits"]]
        facets = {
            name: {str(b["key"]): b["doc_count"] for b in agg["buckets"]}
            for name, agg in response.get("aggregations", {}).items()
            if agg["buckets"]
        }
        return SearchResults(
            query=query, total=response["hits"]["total"]["value"], hits=hits, facets=facets
        )

    @staticmethod
    def _query_body(folded: list[str], exact: list[str], filters: dict[str, str]) -> dict:
        for name in filters:
            if name not in FACETS:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FACETS)}")
        conditions = [{"term": {name: str(value)}} for name, value in filters.items()]
        aggs = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in FACETS}
        if not folded:
            return {
                "query": {"bool": {"filter": conditions}},
                "sort": [{"source_name": "asc"}, {"_id": "asc"}],
                "aggs": aggs,
                "track_total_hits": True,
            }
        pages = {
            "nested": {
                "path": "pages",
                "score_mode": "max",
                "query": {"match": {"pages.folded": {"query": " ".join(folded)}}},
                "inner_hits": {
                    "size": MAX_PAGES_PER_HIT,
                    "_source": ["pages.page_no", "pages.text"],
                },
            }
        }
        return {
            "query": {
                "bool": {
                    "must": [{"match": {"folded": {"query": " ".join(folded), "operator": "and"}}}],
                    "should": [
                        {"match": {"exact": {"query": " ".join(exact), "boost": EXACT_BOOST}}},
                        pages,
                    ],
                    "filter": conditions,
                }
            },
            "sort": [{"_score": "desc"}, {"_id": "asc"}],
            "_source": ["source_name", "status", "page_count", "metadata"],
            "aggs": aggs,
            "track_total_hits": True,
        }

    @staticmethod
    def _hit(hit: dict[str, Any], folded: list[str]) -> SearchHit:
        source = hit["_source"]
        pages = []
        inner = hit.get("inner_hits", {}).get("pages", {}).get("hits", {}).get("hits", [])
        for page in inner:
            snippet = make_snippet(page["_source"]["text"], folded)
            pages.append(PageHit(int(page["_source"]["page_no"]), snippet.text, snippet.spans))
        return SearchHit(
            doc_id=hit["_id"],
            score=float(hit.get("_score") or 0.0),
            source_name=source["source_name"],
            status=source["status"],
            page_count=source["page_count"],
            metadata=source.get("metadata") or {},
            pages=pages,
        )
