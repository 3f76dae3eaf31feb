import re
import subprocess

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
    outside_the_app = {"SOHOA_MINIO_ACCESS_KEY", "SOHOA_MINIO_SECRET_KEY", "SOHOA_API_PORT"}
    for path in ("docker-compose.yml", ".env.example"):
        used = set(re.findall(r"SOHOA_[A-Z_]*[A-Z]", (ROOT / path).read_text()))
        assert used, path
        assert used - outside_the_app <= names, (path, used - outside_the_app - names)
