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


APP_KEYS = "".join(  # the application's S3 keys in the environment of api and worker
    f"  SOHOA_MINIO_{key}: ${{SOHOA_MINIO_{key}:?set SOHOA_MINIO_{key} in .env}}\n"
    for key in ("ACCESS_KEY", "SECRET_KEY")
)
BROKEN = {
    "api on every interface": (
        '"${SOHOA_API_BIND:-127.0.0.1}:${SOHOA_API_PORT:-8000}:8000"',
        '"${SOHOA_API_PORT:-8000}:8000"',
        "api is published on 0.0.0.0",
    ),
    "a default root password": (
        "${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD in .env}",
        "${MINIO_ROOT_PASSWORD:-minioadmin}",
        "a secret must be ${MINIO_ROOT_PASSWORD:?message}",
    ),
    "a secret written in the file": (
        "SOHOA_MINIO_SECRET_KEY: ${SOHOA_MINIO_SECRET_KEY:?set SOHOA_MINIO_SECRET_KEY in .env}",
        "SOHOA_MINIO_SECRET_KEY: hunter2-hunter2",
        "SOHOA_MINIO_SECRET_KEY does not come from a secret variable",
    ),
    "the root login as the app's keys": (
        APP_KEYS,
        APP_KEYS.replace("${SOHOA_MINIO_ACCESS_KEY", "${MINIO_ROOT_USER").replace(
            "${SOHOA_MINIO_SECRET_KEY", "${MINIO_ROOT_PASSWORD"
        ),
        "SOHOA_MINIO_ACCESS_KEY must be the application's own key, not MINIO_ROOT_USER",
    ),
    "redis published": (
        '    command: ["redis-server"',
        '    ports: ["6379:6379"]\n    command: ["redis-server"',
        "redis publishes a port",
    ),
}


def compose_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "compose-check.sh"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.mark.parametrize("case", BROKEN)
def test_compose_check_refuses_an_unsafe_compose_file(case: str, tmp_path) -> None:
    old, new, complaint = BROKEN[case]
    text = (ROOT / "docker-compose.yml").read_text()
    assert old in text, "the test no longer matches docker-compose.yml"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new))
    result = compose_check("-f", str(broken))
    assert result.returncode == 1, result.stderr
    assert complaint in result.stderr


def test_compose_check_refuses_the_root_login_as_the_apps_key_in_the_env_file(tmp_path) -> None:
    example = (ROOT / ".env.example").read_text()
    root_user = re.search(r"^MINIO_ROOT_USER=(.*)$", example, re.M)[1]
    env = tmp_path / ".env"
    env.write_text(
        re.sub(
            r"^SOHOA_MINIO_ACCESS_KEY=.*$",
            f"SOHOA_MINIO_ACCESS_KEY={root_user}",
            example,
            flags=re.M,
        )
    )
    result = compose_check("--env-file", str(env))
    assert result.returncode == 1
    assert "the env file gives the app MinIO's root user" in result.stderr
    assert root_user not in result.stderr  # a secret is never printed
