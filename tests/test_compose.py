import re
import subprocess
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from schemas.errors import BadSetting
from tests.conftest import ROOT


def test_docker_compose_file_is_valid_for_operators() -> None:
    """`docker compose config` accepts the file with the example settings."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "compose-check.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_uses_the_code_settings_names() -> None:
    from app.config import Settings

    names = {f"SOHOA_{name.upper()}" for name in Settings.model_fields}
    published = {"SOHOA_API_BIND", "SOHOA_API_PORT", "SOHOA_STORAGE_BIND", "SOHOA_STORAGE_PORT"}
    outside_the_app = {"SOHOA_MINIO_ACCESS_KEY", "SOHOA_MINIO_SECRET_KEY", *published}
    for path in ("docker-compose.yml", ".env.example"):
        used = set(re.findall(r"SOHOA_[A-Z_]*[A-Z]", (ROOT / path).read_text()))
        assert used, path
        assert used - outside_the_app <= names, (path, used - outside_the_app - names)


PUBLIC_HOST = "files.example.org"


def test_download_links_are_signed_for_the_public_storage_host(servers, tmp_path) -> None:
    """A TLS proxy at the public name forwards to the S3 server with the Host it was asked for:
    the link must verify there, and only there (SigV4 signs the Host header)."""
    from app.compose import build_store
    from app.config import load_settings

    settings = load_settings(
        data_dir=tmp_path,
        storage=servers["SOHOA_STORAGE"],
        public_storage_url=f"https://{PUBLIC_HOST}",
    )
    store = build_store(settings)
    key = f"test-public-link/{uuid.uuid4().hex}.pdf"
    store.put_bytes(key, b"%PDF-1.7 public link")
    try:
        link = httpx.URL(store.presigned_url(key, disposition='attachment; filename="x.pdf"'))
        assert (link.scheme, link.host, link.port) == ("https", PUBLIC_HOST, None)
        query = dict(link.params)
        assert int(query["X-Amz-Expires"]) <= 15 * 60 and query["X-Amz-Signature"]

        real = urlsplit(servers["SOHOA_STORAGE"])
        behind_proxy = link.copy_with(scheme="http", host=real.hostname, port=real.port)
        served = httpx.get(behind_proxy, headers={"Host": PUBLIC_HOST})
        assert served.status_code == 200, served.text
        assert served.content == b"%PDF-1.7 public link"
        assert served.headers["content-disposition"] == 'attachment; filename="x.pdf"'
        assert httpx.get(behind_proxy).status_code == 403  # signed for the public name only
    finally:
        store.delete(key)


def test_a_public_storage_url_with_a_path_is_a_bad_setting(servers, tmp_path) -> None:
    from app.compose import build_store
    from app.config import load_settings

    settings = load_settings(
        data_dir=tmp_path,
        storage=servers["SOHOA_STORAGE"],
        public_storage_url=f"https://{PUBLIC_HOST}/s3",
    )
    with pytest.raises(BadSetting, match="SOHOA_PUBLIC_STORAGE_URL"):
        build_store(settings)
