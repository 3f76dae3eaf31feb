"""Where `sohoa pdfa check` finds veraPDF: `--verapdf PATH`, else the setting SOHOA_VERAPDF
(veraPDF's own launcher, as its installer leaves it), else scripts/verapdf.sh's install from
Maven Central; and a message that says what to set when none of them gives a veraPDF."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from corpus import make_documents, write_pdf_digital
from schemas.errors import ToolMissing
from tests.conftest import TEST_ORGAN, cli_with_env
from tests.verapdf import verdicts

NOT_FOUND_EXIT = ToolMissing.exit_code


def _said(answer) -> str:  # noqa: ANN001
    return " ".join(answer.stderr.split())  # the terminal's line breaks taken out


def _launcher(folder: Path) -> Path:
    """A veraPDF installation's launcher: `verapdf`, a shell script that runs veraPDF's jars
    (those scripts/verapdf.sh installed; as the veraPDF installer's own script does)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sohoa/verapdf"
    libs = sorted(cache.glob("lib-*/greenfield-apps-*.jar"))
    assert libs, f"no veraPDF installed under {cache}"
    launcher = folder / "verapdf-1.28" / "verapdf"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(
        "#!/bin/sh\n"
        f'exec java -XX:TieredStopAtLevel=1 -cp "{libs[-1].parent}/*" '
        'org.verapdf.apps.GreenfieldCliWrapper "$@"\n'
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("verapdf-setting")
    pdf = write_pdf_digital(tmp / "p.pdf", make_documents(1, seed=32, pages=1)[0].pages)
    verdicts({"p": pdf})  # scripts/verapdf.sh installs veraPDF (cached) if it is not yet
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp / "data"), "SOHOA_ORGAN": TEST_ORGAN}
    env.pop("SOHOA_VERAPDF", None)
    ingested = cli_with_env(env, "ingest", str(pdf), "--json", "--no-progress")
    assert ingested.returncode == 0, ingested.stderr
    doc_id = json.loads(ingested.stdout.splitlines()[0])["document_id"]
    return {"env": env, "doc_id": doc_id, "launcher": _launcher(tmp), "tmp": tmp}


def test_the_setting_names_verapdfs_launcher_and_the_option_wins(installation: dict) -> None:
    env, doc_id, launcher = installation["env"], installation["doc_id"], installation["launcher"]
    by_setting = cli_with_env({**env, "SOHOA_VERAPDF": str(launcher)}, "pdfa", "check", doc_id)
    assert by_setting.returncode == 0, by_setting.stderr
    assert f"PASS {doc_id}  (PDF/A-2b, veraPDF 1.28" in by_setting.stdout
    missing = "/nowhere/verapdf"
    wrong = cli_with_env({**env, "SOHOA_VERAPDF": missing}, "pdfa", "check", doc_id)
    assert wrong.returncode == NOT_FOUND_EXIT, wrong.stdout
    assert f"veraPDF not found: the launcher {missing} (SOHOA_VERAPDF or --verapdf)" in _said(wrong)
    flag = cli_with_env(
        {**env, "SOHOA_VERAPDF": missing}, "pdfa", "check", doc_id, "--verapdf", str(launcher)
    )
    assert flag.returncode == 0, flag.stderr
    assert f"PASS {doc_id}" in flag.stdout


def test_without_the_setting_and_no_verapdf_to_install_the_error_says_what_to_set(
    installation: dict,
) -> None:
    empty = installation["tmp"] / "empty-cache"
    env = {**installation["env"], "SOHOA_VERAPDF_HOME": str(empty), "JAVA": "/no/java"}
    answer = cli_with_env(env, "pdfa", "check", installation["doc_id"])
    assert answer.returncode == NOT_FOUND_EXIT, answer.stdout
    message = _said(answer)
    assert (
        "veraPDF not found: set SOHOA_VERAPDF (or --verapdf PATH) to veraPDF's launcher" in message
    )
    assert "Java is missing" in message  # why scripts/verapdf.sh could not install it
