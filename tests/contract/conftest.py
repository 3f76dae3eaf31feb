"""Every contract test runs against the embedded backend and its server twin."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.sqlite import SqliteIndex
from storage.local import LocalStore


# The server twin needs the servers: `slow` (make test-fast leaves it out).
@pytest.fixture(params=["local", pytest.param("minio", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    if request.param == "local":
        yield LocalStore(tmp_path / "store")
        return
    from storage.minio import MinioStore

    url = request.getfixturevalue("servers")["SOHOA_STORAGE"]
    bucket = f"test-{uuid.uuid4().hex[:20]}"
    minio = MinioStore.from_url(url.rsplit("/", 1)[0] + "/" + bucket)
    yield minio
    for key in list(minio.list("")):
        minio.delete(key)
    minio.client.remove_bucket(bucket)


@pytest.fixture(params=["sqlite", pytest.param("elastic", marks=pytest.mark.slow)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    if request.param == "sqlite":
        ix = SqliteIndex(tmp_path / "index.sqlite3")
        yield ix
        ix.close()
        return
    from search.elastic import ElasticIndex

    url = request.getfixturevalue("servers")["SOHOA_SEARCH"]
    ix = ElasticIndex(url, alias=f"test-{uuid.uuid4().hex[:12]}")
    yield ix
    for name in ix.client.indices.get(index=f"{ix.alias}-v*"):
        ix.client.indices.delete(index=name)
    ix.client.indices.delete_index_template(name=f"{ix.alias}-template")
