"""Elasticsearch-API index (Elasticsearch or OpenSearch), the production twin of SqliteIndex.

Both backends index the same words: the server gets the words of a record already cut by the
project's own `tokens()`/`fold()`, lower-cased (`exact`) and folded (`folded`) exactly as
SqliteIndex has them (`word_texts`), and only splits them at spaces (the built-in `whitespace`
tokenizer), so nothing depends on analysis plugins or on the server's idea of a letter.
Pages are stored, not indexed: the best pages and their snippets come from `best_pages` on the
stored page text, as in SqliteIndex. The words go in as an array, one value per metadata string
and per page, with positions: Lucene leaves a gap of 100 positions between values, so a quoted
phrase (`match_phrase`, no slop) matches inside one page or metadata string only, and the
proximity clauses (consecutive query words within PROXIMITY_SLOP) rank documents where the
words stand together first. Positions cost index size (measured in docs/benchmarks.md).
One Lucene document per record keeps bulk indexing and searches cheap. (`_source` keeps the
word fields too: excluding them costs the server more, a parse and re-serialisation of every
source, than storing them.)

Bulk requests are NDJSON bodies written here (one `json` encoding of each record), not actions
re-serialised by the client library: indexing spends its time in the server, not in Python.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from schemas.access import Viewer
from schemas.errors import IndexDamaged, SohoaError
from schemas.fields import METADATA_FIELDS
from schemas.models import Document
from schemas.redact import redact_url
from schemas.text import fold, nfc
from search.base import (
    EXACT_BOOST,
    FACET_SIZE,
    FACETS,
    MAX_PAGES_PER_HIT,
    PageHit,
    SearchHit,
    SearchResults,
    check_sort,
    facet_values,
    failed_page_numbers,
)
from search.highlight import best_pages
from search.words import (
    PROXIMITY_BOOST,
    PROXIMITY_WINDOW,
    WHOLE,
    Query,
    lower_words,
    parse_query,
)

log = logging.getLogger("sohoa.search")

ALIAS = "sohoa-documents"
# Mappings version, in each index's _meta; older indices want `sohoa reindex`. (Not SqliteIndex's
# number: the two layouts changed at different times.)
# 4: word positions, one value per page and metadata string (phrases); 5: visible_to
SCHEMA_VERSION = 5
BULK_CHUNK = 250
BULK_THREADS = 2  # requests in flight: the client prepares one while the server indexes one
BULK_RETRIES = 5  # for documents refused as overloaded (429), after 1, 2, 4 … s
BULK_BACKOFF = 1.0
BULK_FILTER = "errors,items.*.status,items.*._id,items.*.error"  # all the answer we read

# The words arrive cut (`lower_words`, then `fold`): split at whitespace only, with no length
# limit (Lucene's largest; the default 255 would cut long words that SqliteIndex keeps whole).
ANALYSIS = {
    "tokenizer": {"sohoa_words": {"type": "whitespace", "max_token_length": 1024 * 1024}},
    "analyzer": {"sohoa_words": {"type": "custom", "tokenizer": "sohoa_words"}},
}
_TYPED = [f for f in METADATA_FIELDS if f.server_mapping]
_TEXT = {"type": "text", "analyzer": "sohoa_words", "index_options": "positions", "norms": True}
PROXIMITY_SLOP = PROXIMITY_WINDOW - 1  # as SqliteIndex: the second word within 4 of the first
MAX_PAIRS = 16  # proximity clauses per query
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"sohoa_schema": SCHEMA_VERSION},
    "properties": {
        "source_name": {"type": "keyword"},
        "status": {"type": "keyword", "eager_global_ordinals": True},
        "page_count": {"type": "integer"},
        "failed_pages": {"type": "integer"},  # of a partial document
        **{f.name: f.server_mapping for f in _TYPED},  # metadata fields the server types
        "metadata": {"type": "object", "enabled": False},
        **{
            name: {"type": "keyword", "eager_global_ordinals": True}  # facets: built at refresh
            for name in FACETS
            if name != "status"
        },
        "exact": _TEXT,
        "folded": _TEXT,
        "pages": {"type": "object", "enabled": False},  # [{page_no, text}], for snippets
        "visible_to": {"type": "keyword"},  # Visibility.keys(); none: admins alone find it
    },
}
# Fields added to the mappings since layout 3 began: added in place to older indices. (Their
# documents have no `visible_to` until `sohoa reindex`: admins alone find them, fail closed.)
ADDED_FIELDS = ("failed_pages", "visible_to")
# Every write ends with an explicit refresh, so the periodic one only costs segments during bulk.
SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "refresh_interval": "30s",
    "analysis": ANALYSIS,
}


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class SearchBackendError(SohoaError):
    code = "search_backend"
    retryable = True
    http_status = 503


def source_fields(doc: Document) -> dict[str, Any]:
    """A record's source but its words: metadata and facets, pages' text for snippets."""
    typed = {f.name: getattr(doc.metadata, f.name).value for f in _TYPED}
    return {
        "source_name": doc.source_name,
        "page_count": doc.page_count,
        **{name: str(value) if value else None for name, value in typed.items()},
        "metadata": doc.metadata.values(),  # dates and the like become strings in _dumps
        "failed_pages": failed_page_numbers(doc),
        **facet_values(doc),
        "pages": [{"page_no": p.page_no, "text": nfc(p.text)} for p in doc.pages if p.text],
        "visible_to": doc.visibility.keys() if doc.visibility is not None else [],
    }


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _texts(doc: Document) -> list[str]:
    """The searchable texts of a record, each on its own (as SqliteIndex reads them back for
    phrases): its metadata strings, then its pages."""
    texts = [doc.source_name]
    for value in doc.metadata.values().values():
        texts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return texts + [p.text for p in doc.pages if p.text]


def bulk_line(doc: Document) -> str:
    """The two NDJSON lines that index `doc`: the action, then its source, words included.
    Words joined by spaces, one array value per text, suit every layout so far (the whitespace
    analyzer of the first and the current one, the letters-and-digits pattern of the second),
    and they are letters and digits only: JSON needs no escaping for them. (The same words as
    `metadata_text` and the pages give SqliteIndex.)"""
    exact = [lower_words(nfc(text)) for text in _texts(doc)]
    exact_values = ",".join(f'"{words}"' for words in exact)
    folded_values = ",".join(f'"{fold(words)}"' for words in exact)
    source = _dumps(source_fields(doc))[:-1]
    source += f',"exact":[{exact_values}],"folded":[{folded_values}]}}'
    return f'{{"index":{{"_id":{_dumps(doc.id)}}}}}\n{source}\n'


def _status(error: Exception) -> Any:
    """The HTTP status of a client error: opensearch-py's `status_code`, elasticsearch 8's
    `meta.status`."""
    meta = getattr(error, "meta", None)
    return getattr(error, "status_code", None) or getattr(meta, "status", None)


# The clients log every failed request as a WARNING with its traceback, once per retry: a
# server that is down gave a screenful per command. Our own error says it once (app/logs.py).
for _name in ("opensearch", "elasticsearch", "elastic_transport"):
    logging.getLogger(_name).setLevel(logging.ERROR)

PROBE_TIMEOUT_S = 10  # the first request: a server that is not there is said at once
REQUEST_TIMEOUT_S = 30
REQUEST_RETRIES = 3  # once it answered: a busy server (timeouts) is asked again


def make_client(url: str) -> Any:
    """A client for the server at `url`: opensearch-py for OpenSearch, the official
    elasticsearch client (of the server's major version) for Elasticsearch."""
    from opensearchpy import OpenSearch

    probe = OpenSearch(hosts=[url], timeout=PROBE_TIMEOUT_S, max_retries=0)
    try:
        info = probe.info()
    except Exception as e:
        reason = str(e).split(" caused by: ")[0]  # the client repeats the cause after it
        raise SearchBackendError(
            f"search server at {redact_url(url)} cannot be reached: {redact_url(reason)}"
        ) from e
    finally:
        probe.close()
    if info.get("version", {}).get("distribution") == "opensearch":
        return OpenSearch(
            hosts=[url],
            timeout=REQUEST_TIMEOUT_S,
            max_retries=REQUEST_RETRIES,
            retry_on_timeout=True,
        )
    from elasticsearch import Elasticsearch  # pinned by the operator to the server's major

    return Elasticsearch(
        url,
        request_timeout=REQUEST_TIMEOUT_S,
        max_retries=REQUEST_RETRIES,
        retry_on_timeout=True,
    )


def _proximity(parsed: Query) -> list[dict[str, Any]]:
    """Clauses scoring each pair of consecutive query words (as typed) that stand within
    PROXIMITY_SLOP of each other, in order, and the whole query standing as typed: folded,
    and exact weighing EXACT_BOOST more. The weights are search/words.py's, which SqliteIndex
    scores with too (search/sqlite_proximity.py)."""
    clauses = []
    for field, words, boost in (
        ("folded", parsed.words, PROXIMITY_BOOST),
        ("exact", parsed.exact_words, PROXIMITY_BOOST * EXACT_BOOST),
    ):
        pairs = dict.fromkeys(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
        clauses += [
            {"match_phrase": {field: {"query": pair, "slop": PROXIMITY_SLOP, "boost": boost}}}
            for pair in list(pairs)[:MAX_PAIRS]
        ]
        if len(words) > 2:
            whole = " ".join(words)
            clauses.append({"match_phrase": {field: {"query": whole, "boost": boost * WHOLE}}})
    return clauses


def _by_date(sort: str) -> dict[str, Any]:
    """The hits by issued date (`date`: newest first), documents without one (or with one
    the server could not read: `ignore_malformed`) last; the same day by score, then id, as
    the listing (stable pages)."""
    order = "asc" if sort == "date_asc" else "desc"
    return {
        "sort": [
            # unmapped_type: an index of an older layout without the field sorts, undated
            {"issued_date": {"order": order, "missing": "_last", "unmapped_type": "date"}},
            {"_score": "desc"},
            {"_id": "asc"},
        ],
        "track_scores": True,
    }


class ElasticIndex:
    def __init__(self, url: str, alias: str = ALIAS, client: Any = None) -> None:
        self.url = redact_url(url)  # shown in messages: never its credentials
        self.alias = alias
        self.client = client or make_client(url)
        # Why the alias cannot be used (None: it can); `rebuild()` makes it anew.
        self._missing: str | None = None
        self._positions = True  # every index behind the alias keeps word positions (layout 4)
        fresh = not self.client.indices.exists_index_template(name=f"{self.alias}-template")
        self._put_template()
        self._ensure_alias(fresh)
        self._check_layout()

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

    def _ensure_alias(self, fresh: bool) -> None:
        """First use: the first index and its alias. Several worker processes start at once, so
        the first index has a fixed name and whoever creates it second simply uses it.
        Not on a server where this alias was set up before (its template is there): an index
        lost there is not silently replaced by an empty one; `sohoa reindex` rebuilds it."""
        if self.client.indices.exists_alias(name=self.alias):
            return
        if self.client.indices.exists(index=self.alias):
            self._missing = "an index that is not sohoa's alias has its name"
            return
        if not fresh:
            self._missing = "missing on the server"
            return
        first = f"{self.alias}-v0"
        try:
            self._create_index(first)
        except Exception as e:
            if "resource_already_exists_exception" not in str(e):
                raise
        self.client.indices.put_alias(index=first, name=self.alias)

    def _check_layout(self) -> None:
        """Indices made by an older version keep working (`bulk_line` suits them all), slower,
        until `sohoa reindex` rebuilds them with the current mappings."""
        try:
            mappings = self.client.indices.get_mapping(index=self.alias)
        except Exception:  # noqa: BLE001 - a warning only; searches report real errors
            return
        for name, body in mappings.items():
            schema = body.get("mappings", {}).get("_meta", {}).get("sohoa_schema")
            self._positions &= isinstance(schema, int) and schema >= 4
            if schema != SCHEMA_VERSION:
                log.warning("search index %s has an older layout: run `sohoa reindex`", name)
            known = body.get("mappings", {}).get("properties", {})
            missing = {f: MAPPINGS["properties"][f] for f in ADDED_FIELDS if f not in known}
            if missing:  # strict mappings refuse unknown fields; adding one is allowed in place
                self.client.indices.put_mapping(index=name, body={"properties": missing})

    def _alias_targets(self) -> list[str]:
        if not self.client.indices.exists_alias(name=self.alias):
            return []
        return list(self.client.indices.get_alias(name=self.alias).keys())

    def _damaged(self, reason: str) -> IndexDamaged:
        return IndexDamaged(f"{self.alias} on {self.url}", reason)

    def _require_alias(self) -> None:
        """Reads and writes need the alias: a clear error when it is gone, not an empty index
        (a bulk write to a missing alias would create a plain index of that name)."""
        if self._missing is None:
            return
        if self.client.indices.exists_alias(name=self.alias):
            self._missing = None  # made meanwhile by another process starting up
            return
        raise self._damaged(self._missing)

    # -- writes ------------------------------------------------------------------------------

    def _bulk(self, index: str, docs: Iterable[Document], require_alias: bool = False) -> int:
        """Bulk requests of BULK_CHUNK documents, BULK_THREADS in flight: this thread writes
        the next body while the server indexes the last."""
        count = 0
        with ThreadPoolExecutor(BULK_THREADS) as pool:
            in_flight: deque[Future[int]] = deque()
            for chunk in _chunks(docs, BULK_CHUNK):
                lines = [bulk_line(doc) for doc in chunk]
                if len(in_flight) >= BULK_THREADS:
                    count += in_flight.popleft().result()
                in_flight.append(pool.submit(self._send, index, lines, require_alias))
            while in_flight:
                count += in_flight.popleft().result()
        return count

    def _send(self, index: str, lines: list[str], require_alias: bool = False) -> int:
        """One bulk request of `lines` (bulk_line each). Documents the server refuses as
        overloaded (429, the whole request or single items) are sent again after a backoff,
        up to BULK_RETRIES times; any other failure raises, naming the document."""
        pending = lines
        for attempt in range(BULK_RETRIES + 1):
            if attempt:
                time.sleep(min(BULK_BACKOFF * 2 ** (attempt - 1), 60))
            body = "".join(pending).encode("utf-8", "surrogatepass")
            try:
                response = self.client.bulk(
                    body=body,
                    index=index,
                    filter_path=BULK_FILTER,
                    **({"require_alias": "true"} if require_alias else {}),
                )
            except Exception as e:
                if _status(e) == 429 and attempt < BULK_RETRIES:
                    continue
                raise
            if not response["errors"]:
                return len(lines)
            pending = self._overloaded(pending, response["items"])
            if not pending:
                return len(lines)
        raise SearchBackendError(f"indexing failed: {len(pending)} documents refused (429)")

    def _overloaded(self, lines: list[str], items: list[dict[str, Any]]) -> list[str]:
        """The lines whose items the server refused as overloaded; raises on other failures."""
        again = []
        for line, item in zip(lines, items, strict=True):
            result = next(iter(item.values()))
            if result.get("status", 200) == 429:
                again.append(line)
            elif result.get("status") == 404:  # the alias went away while this process runs
                raise self._damaged("missing on the server")
            elif "error" in result:
                raise SearchBackendError(f"indexing failed: {json.dumps(item)[:300]}")
        return again

    def index(self, docs: Iterable[Document]) -> int:
        self._require_alias()
        count = self._bulk(self.alias, docs, require_alias=True)
        self.client.indices.refresh(index=self.alias)
        return count

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Build a fresh index from `docs`, then swap the alias to it at once (no downtime)."""
        old = self._alias_targets()
        new = self._create_index()
        try:
            count = self._bulk(new, docs)
            self.client.indices.refresh(index=new)
        except BaseException:
            self.client.indices.delete(index=new)
            raise
        swap: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.alias}}]
        swap += [{"remove": {"index": name, "alias": self.alias}} for name in old]
        if not old and self.client.indices.exists(index=self.alias):
            # A plain index took the alias's name: replaced by the rebuilt one, at once.
            log.warning("search index %s: a plain index of that name is replaced", self.alias)
            swap.append({"remove_index": {"index": self.alias}})
        self.client.indices.update_aliases(body={"actions": swap})
        self._missing = None
        self._positions = True
        for name in old:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        return count

    def delete(self, doc_id: str) -> None:
        self.client.delete(index=self.alias, id=doc_id, refresh=True, ignore=[404])

    def clear(self) -> None:
        self.rebuild([])

    def count(self) -> int:
        self._require_alias()
        try:
            return int(self.client.count(index=self.alias)["count"])
        except Exception as e:
            if _status(e) == 404:
                raise self._damaged("missing on the server") from e
            raise

    def close(self) -> None:
        self.client.close()

    # -- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        viewer: Viewer,
        filters: dict[str, str] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str = "relevance",
    ) -> SearchResults:
        check_sort(sort)
        parsed = parse_query(query)
        folded = parsed.folded
        if parsed.phrases and not self._positions:
            raise self._damaged("its layout keeps no word positions: run `sohoa reindex`")
        hits_body, facets_body = self._bodies(
            parsed, filters or {}, viewer.keys(), limit, offset, proximity=self._positions
        )
        if sort != "relevance":
            hits_body |= _by_date(sort)
        self._require_alias()
        # Two searches in one round trip, run side by side by the server: the ranked page of
        # hits (top-k only: not counting every match lets Lucene skip blocks that cannot make
        # the page), and the exact total with the facet counts over every match (filter
        # context, nothing scored).
        found, counted = self.client.msearch(
            body=[{"index": self.alias}, hits_body, {"index": self.alias}, facets_body]
        )["responses"]
        for response in (found, counted):
            if response.get("status") == 404:  # deleted while this process runs
                raise self._damaged("missing on the server")
            if "error" in response:
                raise SearchBackendError(f"search failed: {json.dumps(response)[:300]}")
        hits = [self._hit(h, folded) for h in found["hits"]["hits"]]
        facets = {
            name: {str(b["key"]): b["doc_count"] for b in agg["buckets"]}
            for name, agg in counted.get("aggregations", {}).items()
            if agg["buckets"]
        }
        return SearchResults(
            query=query, total=counted["hits"]["total"]["value"], hits=hits, facets=facets
        )

    @staticmethod
    def _bodies(
        parsed: Query,
        filters: dict[str, str],
        keys: list[str] | None,
        limit: int,
        offset: int,
        proximity: bool = True,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(ranked hits, total and facet counts) request bodies. Both filter by the viewer's
        `keys` (None: no filter) and by the phrases; the proximity clauses (`_proximity`) rank
        the hits."""
        folded, exact = parsed.folded, parsed.exact
        for name in filters:
            if name not in FACETS:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FACETS)}")
        conditions: list[dict[str, Any]] = [
            {"term": {name: str(value)}} for name, value in filters.items()
        ]
        if keys is not None:
            conditions.append({"terms": {"visible_to": keys}})
        phrases = [{"match_phrase": {"folded": " ".join(p)}} for p in parsed.phrases]
        if folded:
            conditions.append({"match": {"folded": {"query": " ".join(folded), "operator": "and"}}})
        facets = {
            "size": 0,
            "track_total_hits": True,
            "query": {"bool": {"filter": conditions + phrases}},
            "aggs": {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in FACETS},
        }
        if not folded:
            hits: dict[str, Any] = {
                "query": {"bool": {"filter": conditions}},
                "sort": [{"source_name": "asc"}, {"_id": "asc"}],
                "_source": ["source_name", "status", "page_count", "metadata", "failed_pages"],
            }
        else:
            hits = {
                "query": {
                    "bool": {
                        "must": [conditions[-1]],
                        "should": [
                            {"match": {"exact": {"query": " ".join(exact), "boost": EXACT_BOOST}}},
                            *(_proximity(parsed) if proximity else []),
                        ],
                        "filter": conditions[:-1] + phrases,
                    }
                },
                # by score, then index order (a sort on _id would load every id into memory)
                "_source": [
                    "source_name",
                    "status",
                    "page_count",
                    "metadata",
                    "pages",
                    "failed_pages",
                ],
            }
        hits.update({"from": offset, "size": limit, "track_total_hits": False})
        return hits, facets

    @staticmethod
    def _hit(hit: dict[str, Any], folded: list[str]) -> SearchHit:
        source = hit["_source"]
        texts = [(int(p["page_no"]), p["text"]) for p in source.get("pages") or []]
        pages = (
            [
                PageHit(page_no, snippet.text, snippet.spans)
                for page_no, snippet in best_pages(texts, folded, MAX_PAGES_PER_HIT)
            ]
            if folded
            else []
        )
        return SearchHit(
            doc_id=hit["_id"],
            score=float(hit.get("_score") or 0.0),
            source_name=source["source_name"],
            status=source["status"],
            page_count=source["page_count"],
            metadata=source.get("metadata") or {},
            pages=pages,
            failed_pages=source.get("failed_pages") or [],
        )
