"""`archive export` audits each bag it writes without reading the whole audit log again for each
one: a log read per bag made every bag cost more than the one before (CPU, and the memory
of the listing: docs/benchmarks.md "At 1,000 and 10,000 documents")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.compose import build_services
from app.config import load_settings
from corpus import make_documents, write_pdf_digital
from exchange.messages import AUDIT_ENTRIES
from storage.local import LocalStore
from tests.conftest import TEST_ORGAN, cli_with_env
from workers.archive_export import export_packages, plan_all
from workers.archive_import import import_packages


def _ingested(tmp_path: Path, count: int, seed: int) -> tuple[Path, dict[str, str]]:
    """`count` one-page born-digital documents ingested by the CLI: the data dir and its env."""
    folder = tmp_path / "in"
    folder.mkdir()
    docs = make_documents(count, seed=seed, pages=1)
    paths = [str(write_pdf_digital(folder / f"p{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    data = tmp_path / "data"
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN}
    ingested = cli_with_env(env, "ingest", *paths, "--json", "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    return data, env


def _count_audit_listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every listing of the audit log's entries through the real local store, from now on."""
    listed: list[str] = []
    real_list = LocalStore.list

    def counted(store: LocalStore, prefix: str):  # noqa: ANN202
        if prefix.startswith(AUDIT_ENTRIES):
            listed.append(prefix)
        return real_list(store, prefix)

    monkeypatch.setattr(LocalStore, "list", counted)
    return listed


def test_an_export_lists_the_audit_log_once_however_many_bags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, env = _ingested(tmp_path, 4, seed=41)
    listed = _count_audit_listings(monkeypatch)
    services = build_services(load_settings(data_dir=data))
    report = export_packages(services, plan_all(services), tmp_path / "bags")
    assert len(report.bags) == 4 and not report.problems
    assert len(listed) <= 1, f"the audit log was listed {len(listed)} times for 4 bags"

    # each bag is still audited, in one chain the operator's check accepts
    monkeypatch.undo()
    verified = cli_with_env(env, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = cli_with_env(env, "audit", "list", "--json")
    actions = [json.loads(line)["action"] for line in shown.stdout.splitlines() if line.strip()]
    assert actions.count("archive_export") == 4, shown.stdout


def test_an_import_lists_the_audit_log_once_however_many_bags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, env = _ingested(tmp_path, 3, seed=43)
    exported = cli_with_env(env, "archive", "export", "--all", "-o", str(tmp_path / "bags"))
    assert exported.returncode == 0, exported.stderr
    listed = _count_audit_listings(monkeypatch)
    other = tmp_path / "other"
    services = build_services(load_settings(data_dir=other))
    report = import_packages(services, tmp_path / "bags")
    assert len(report.bags) == 3 and not report.refused, report
    assert len(listed) <= 1, f"the audit log was listed {len(listed)} times for 3 bags"

    monkeypatch.undo()
    env_other = {**env, "SOHOA_DATA_DIR": str(other)}
    verified = cli_with_env(env_other, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = cli_with_env(env_other, "audit", "list", "--json")
    actions = [json.loads(line)["action"] for line in shown.stdout.splitlines() if line.strip()]
    assert actions.count("archive_import") == 3, shown.stdout
