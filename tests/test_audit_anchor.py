"""The audit log's signed checkpoints: truncation, rewrite-and-rehash and deletion are caught.

Entries are appended by a real Exchange service (keys, tokens, reads), then an attacker with
write access to the object store (a local folder, or the S3 server of the `servers` fixture)
edits the stored objects directly; `sohoa audit verify`, run as a user would, must name what
was done and exit 1. Each case starts from a fresh store, so they are independent.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.compose import build_services, build_store
from app.config import Settings
from exchange.audit import AuditEntry
from exchange.service import Exchange
from storage.base import ObjectStore
from tests.conftest import cli_with_env, unprivileged
from tests.pki_support import init_ca
from workers.exchange_setup import build_exchange

COMMUNE = "003.00.00.H55"  # UBND phường Kon Tum
OUTSIDER = "000.00.00.H17"
ENTRIES = "exchange/audit/"
CHECKPOINTS = "exchange/audit-checkpoints/"
EVERY = 3  # a checkpoint every 3 entries: appending 8 makes checkpoints at entries 1, 4 and 7


@dataclass
class Install:
    env: dict[str, str]
    settings: Settings
    ex: Exchange
    store: ObjectStore  # the attacker's own handle on the same store

    def verify(self, *args: str):  # noqa: ANN201
        return cli_with_env(self.env, "audit", "verify", *args, timeout_s=120)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])  # s3: servers
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Install:
    storage = ""
    if request.param == "s3":
        url = request.getfixturevalue("servers")["SOHOA_STORAGE"]
        storage = url.rsplit("/", 1)[0] + f"/audit-{uuid.uuid4().hex[:12]}"
    return make_install(tmp_path / "data", storage)


def make_install(data: Path, storage: str = "") -> Install:
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(data),
        "SOHOA_STORAGE": storage,
        "SOHOA_SEARCH": "",
        "SOHOA_AUDIT_CHECKPOINT_EVERY": str(EVERY),
    }
    settings = Settings(data_dir=data, storage=storage, search="", audit_checkpoint_every=EVERY)
    ex = build_exchange(build_services(settings))
    return Install(env, settings, ex, build_store(settings))


def fill(install: Install) -> None:
    """Eight entries through the service: a key pair, two tokens, five reads."""
    init_ca(install.ex)
    install.ex.create_keys(COMMUNE)
    install.ex.issue_token(COMMUNE)
    install.ex.issue_token(COMMUNE)
    for i in range(5):
        install.ex.audit.append(COMMUNE, "read", f"message-{i}")


def entry_keys(store: ObjectStore) -> list[str]:
    return sorted(k for k in store.list(ENTRIES) if k.endswith(".json"))


def checkpoint_keys(store: ObjectStore) -> list[str]:
    return sorted(k for k in store.list(CHECKPOINTS) if k.endswith(".json"))


def tampered(install: Install) -> str:
    """`sohoa audit verify` after the attack: exit 1, the finding on stderr and in --json."""
    text = install.verify()
    assert text.returncode == 1, text.stdout + text.stderr
    assert "audit log tampered with:" in text.stderr and "Traceback" not in text.stderr
    return " ".join(text.stderr.split())


def test_new_installation_verifies_empty_then_checkpoints_are_written_and_verified(
    install: Install,
) -> None:
    empty = install.verify()
    assert empty.returncode == 0, empty.stderr
    assert "audit log intact (empty): no entries, no checkpoints" in empty.stdout
    fill(install)
    # Appending wrote checkpoints at entries 1, 4 and 7, signed, never overwritten.
    written = [json.loads(install.store.get_bytes(k)) for k in checkpoint_keys(install.store)]
    assert [(c["n"], c["count"]) for c in written] == [(1, 1), (2, 4), (3, 7)]
    assert install.store.exists("exchange/audit-key.pem")
    assert not any("PRIVATE" in k for k in install.store.list("exchange/"))
    key_file = install.settings.data_dir / "exchange-keys" / "audit.key.pem"
    assert key_file.stat().st_mode & 0o077 == 0
    assert b"PRIVATE KEY" not in install.store.get_bytes("exchange/audit-key.pem")

    ok = install.verify()
    assert ok.returncode == 0, ok.stderr
    assert "audit log intact: 8 entries, hash chain verified" in ok.stdout
    assert "written: checkpoint 4 (8 entries" in ok.stdout
    assert "PRIVATE" not in ok.stdout + ok.stderr
    again = json.loads(install.verify("--json").stdout)
    # Nothing appended since: the newest checkpoint already anchors this head.
    assert again["ok"] is True and again["checkpoints"] == 4
    assert again["latest_checkpoint"]["count"] == 8 and again["checkpoint_written"] is None


def _rehash_from(store: ObjectStore, first: int) -> None:
    """Rewrite entry `first` and re-hash every entry after it: a correct chain, just another."""
    keys = entry_keys(store)
    prev = AuditEntry.model_validate_json(store.get_bytes(keys[first - 2])).hash
    for key in keys[first - 1 :]:
        entry = AuditEntry.model_validate_json(store.get_bytes(key))
        if entry.seq == first:
            entry.organ_id, entry.target = OUTSIDER, "message-forged"
        entry.prev = prev
        entry.hash = entry.compute_hash()
        store.put_bytes(key, entry.model_dump_json().encode())
        prev = entry.hash


def _sign_checkpoint(body: dict, key) -> dict:  # noqa: ANN001
    """A checkpoint as an attacker with a signing key would make one."""
    from exchange.audit import Checkpoint

    cp = Checkpoint.model_validate(body)
    cp.signature = base64.b64encode(key.sign(cp.signed_bytes())).decode()
    return cp.model_dump(mode="json")


def attack_delete_last_entries(install: Install) -> str:
    for key in entry_keys(install.store)[-2:]:
        install.store.delete(key)
    return "entries 7 to 8 were deleted: the log ends at entry 6, but checkpoint 4 (8 entries"


def attack_rewrite_and_rehash(install: Install) -> str:
    _rehash_from(install.store, 5)
    return "is not the entry checkpoint 3 (7 entries"


def attack_delete_every_entry(install: Install) -> str:
    for key in entry_keys(install.store):
        install.store.delete(key)
    return "every entry was deleted: the log is empty, but checkpoint 4 (8 entries"


def attack_delete_newest_checkpoint(install: Install) -> str:
    install.store.delete(checkpoint_keys(install.store)[-1])
    return "checkpoint 4 (8 entries"


def attack_delete_newest_checkpoint_and_its_entries(install: Install) -> str:
    install.store.delete(checkpoint_keys(install.store)[-1])
    install.store.delete(entry_keys(install.store)[-1])
    return "checkpoint 4 (8 entries"


def attack_delete_a_middle_checkpoint(install: Install) -> str:
    install.store.delete(checkpoint_keys(install.store)[1])
    return "checkpoint 2 is missing or out of order (found 000000000003.json)"


def attack_reanchor_with_own_key(install: Install) -> str:
    """Rewrite, re-hash, replace every checkpoint and the public key with the attacker's."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from exchange.audit import GENESIS, fingerprint, public_pem

    _rehash_from(install.store, 5)
    for key in checkpoint_keys(install.store):
        install.store.delete(key)
    own = ed25519.Ed25519PrivateKey.generate()
    install.store.put_bytes("exchange/audit-key.pem", public_pem(own.public_key()))
    head = AuditEntry.model_validate_json(install.store.get_bytes(entry_keys(install.store)[-1]))
    forged = _sign_checkpoint(
        {
            "n": 1,
            "count": 8,
            "head": head.hash,
            "at": "2030-01-01T00:00:00Z",
            "prev": GENESIS,
            "key": fingerprint(own.public_key()),
        },
        own,
    )
    install.store.put_bytes(f"{CHECKPOINTS}000000000001.json", json.dumps(forged).encode())
    return "is not this installation's audit key"


def attack_truncate_and_reanchor_with_the_real_key(install: Install) -> str:
    """Even a holder of the audit key cannot append a checkpoint that counts fewer entries."""
    from cryptography.hazmat.primitives import serialization

    from exchange.audit import Checkpoint

    key_file = install.settings.data_dir / "exchange-keys" / "audit.key.pem"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    keys = entry_keys(install.store)
    for k in keys[-2:]:
        install.store.delete(k)
    six = AuditEntry.model_validate_json(install.store.get_bytes(keys[5]))
    newest = Checkpoint.model_validate_json(
        install.store.get_bytes(checkpoint_keys(install.store)[-1])
    )
    forged = _sign_checkpoint(
        {
            "n": newest.n + 1,
            "count": 6,
            "head": six.hash,
            "at": "2030-01-01T00:00:00Z",
            "prev": newest.digest(),
            "key": newest.key,
        },
        key,
    )
    install.store.put_bytes(f"{CHECKPOINTS}{newest.n + 1:012d}.json", json.dumps(forged).encode())
    return "checkpoint 5 (6 entries"


def _forget_every_checkpoint(install: Install) -> None:
    """What someone who can write the store and the data folder can do: delete every
    checkpoint and the machine's anchor (the audit key file stays where it is)."""
    for key in checkpoint_keys(install.store):
        install.store.delete(key)
    (install.settings.data_dir / "exchange-keys" / "audit-anchor.json").unlink()


def attack_delete_every_checkpoint_and_the_anchor_then_rehash(install: Install) -> str:
    _forget_every_checkpoint(install)
    _rehash_from(install.store, 5)
    return "the log has 8 entries but no checkpoint"


def attack_delete_every_checkpoint_and_the_anchor_then_append(install: Install) -> str:
    """The next append must not anchor what is left (it did: checkpoint 1 over 9 entries)."""
    _forget_every_checkpoint(install)
    _rehash_from(install.store, 5)
    install.ex.audit.append(COMMUNE, "read", "message-after")
    assert checkpoint_keys(install.store) == []
    return "the log has 9 entries but no checkpoint"


def attack_delete_every_checkpoint_then_sign_one_over_the_rest(install: Install) -> str:
    """A first checkpoint over many entries: what 8eae1ec's verify signed after the attack
    above, or a holder of the key re-anchoring; the first one always counts 1 entry."""
    from cryptography.hazmat.primitives import serialization

    from exchange.audit import GENESIS

    key_file = install.settings.data_dir / "exchange-keys" / "audit.key.pem"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    first = json.loads(install.store.get_bytes(checkpoint_keys(install.store)[0]))
    _forget_every_checkpoint(install)
    _rehash_from(install.store, 5)
    head = AuditEntry.model_validate_json(install.store.get_bytes(entry_keys(install.store)[-1]))
    forged = _sign_checkpoint(
        {**first, "count": 8, "head": head.hash, "prev": GENESIS, "signature": ""}, key
    )
    install.store.put_bytes(f"{CHECKPOINTS}000000000001.json", json.dumps(forged).encode())
    return "checkpoint 1 (8 entries"


def attack_delete_everything_but_the_recorded_key(install: Install) -> str:
    _forget_every_checkpoint(install)
    for key in entry_keys(install.store):
        install.store.delete(key)
    return "the store records the audit key (exchange/audit-key.pem) but holds no entry"


ATTACKS = [
    attack_delete_last_entries,
    attack_rewrite_and_rehash,
    attack_delete_every_entry,
    attack_delete_newest_checkpoint,
    attack_delete_newest_checkpoint_and_its_entries,
    attack_delete_a_middle_checkpoint,
    attack_reanchor_with_own_key,
    attack_truncate_and_reanchor_with_the_real_key,
    attack_delete_every_checkpoint_and_the_anchor_then_rehash,
    attack_delete_every_checkpoint_and_the_anchor_then_append,
    attack_delete_every_checkpoint_then_sign_one_over_the_rest,
    attack_delete_everything_but_the_recorded_key,
]
FINDINGS = {
    attack_delete_every_checkpoint_then_sign_one_over_the_rest: "the first checkpoint but "
    "records 8 entries",
    attack_rewrite_and_rehash: "rewritten (at an entry from 5 to 7) and re-hashed",
    attack_delete_newest_checkpoint: "is missing from the store, but this machine recorded it",
    attack_delete_newest_checkpoint_and_its_entries: "checkpoints were deleted",
    attack_reanchor_with_own_key: "it was replaced",
    attack_truncate_and_reanchor_with_the_real_key: "records fewer entries than checkpoint 4 (8)",
}


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__.removeprefix("attack_"))
def test_tampering_with_the_stored_log_is_reported(install: Install, attack) -> None:  # noqa: ANN001
    fill(install)
    before = install.verify()
    assert before.returncode == 0 and "8 entries" in before.stdout, before.stdout + before.stderr
    expected = attack(install)
    anchor = install.settings.data_dir / "exchange-keys" / "audit-anchor.json"

    def anchors() -> tuple[list[str], bytes | None]:
        return checkpoint_keys(install.store), anchor.read_bytes() if anchor.exists() else None

    left = anchors()
    problem = tampered(install)
    assert expected in problem, problem
    assert FINDINGS.get(attack, "") in problem, problem
    # A log verify could not vouch for is never anchored: no checkpoint, no anchor written.
    assert anchors() == left
    assert expected in tampered(install)  # and so it is reported again, every time


def test_a_checkpoint_is_written_when_entries_follow_a_quiet_spell(tmp_path: Path) -> None:
    """The time bound: far fewer entries than SOHOA_AUDIT_CHECKPOINT_EVERY, yet anchored."""
    settings = Settings(
        data_dir=tmp_path,
        storage="",
        search="",
        audit_checkpoint_every=1000,
        audit_checkpoint_minutes=0.01,  # 0.6 s
    )
    ex = build_exchange(build_services(settings))
    ex.audit.append(COMMUNE, "read", "message-1")
    ex.audit.append(COMMUNE, "read", "message-2")
    time.sleep(0.8)
    last = ex.audit.append(COMMUNE, "read", "message-3")
    newest = json.loads(ex.store.get_bytes(checkpoint_keys(ex.store)[-1]))
    assert newest["count"] == last.seq == 3


def test_http_verify_needs_an_organ_token_and_writes_no_checkpoint(tmp_path: Path) -> None:
    """A GET is safe: it checks and reports; only `sohoa audit verify` (and appends) sign."""
    from fastapi.testclient import TestClient

    from app.api import create_app

    install = make_install(tmp_path / "data")
    fill(install)  # checkpoints at entries 1, 4 and 7; entry 8 is not anchored yet
    token = install.ex.issue_token(COMMUNE)  # entry 9
    written = checkpoint_keys(install.store)
    with TestClient(create_app(install.settings)) as client:
        assert client.get("/audit/verify").status_code == 401
        bad = client.get("/audit/verify", headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401
        ok = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["ok"] is True and ok.json()["entries"] == 9
        assert ok.json()["checkpoint_written"] is None
        assert checkpoint_keys(install.store) == written
        for key in entry_keys(install.store)[-2:]:  # both unanchored: only the chain shows it
            install.store.delete(key)
        for key in checkpoint_keys(install.store)[1:]:
            install.store.delete(key)
        found = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
        assert found["ok"] is False and "checkpoint 3 (7 entries" in found["problem"]


def test_a_read_only_data_folder_is_verified_without_writing(tmp_path: Path) -> None:
    """An auditor's read-only copy: the full check, its result, and a line that no checkpoint
    could be written (8eae1ec stopped with exit 5 before verifying anything)."""
    import shutil
    import subprocess
    import sys
    import tempfile

    from tests.conftest import ROOT

    install = make_install(tmp_path / "data")
    fill(install)
    assert install.verify().returncode == 0  # checkpoint 4 over 8 entries, and the anchor
    install.ex.audit.append(COMMUNE, "read", "message-9")  # a checkpoint is due at verify
    top = Path(tempfile.mkdtemp(prefix="sohoa-audit-ro-", dir="/tmp"))
    try:
        top.chmod(0o755)
        data = top / "data"
        shutil.copytree(install.settings.data_dir, data)
        # A second copy with the newest entry deleted: tampering is found read-only too.
        bad = top / "bad"
        shutil.copytree(install.settings.data_dir, bad)
        (bad / "store" / ENTRIES / "000000000009.json").unlink()
        (bad / "store" / ENTRIES / "000000000008.json").unlink()
        for folder, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                if os.geteuid() == 0:
                    os.chown(Path(folder) / name, 65534, 65534)
                path = Path(folder) / name
                path.chmod(path.stat().st_mode & ~0o222)

        def verify(folder: Path) -> subprocess.CompletedProcess:
            env = {**install.env, "SOHOA_DATA_DIR": str(folder), "HOME": str(top)}
            return subprocess.run(
                [*unprivileged(), sys.executable, "-m", "app.cli", "audit", "verify"],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=120,
            )

        result = verify(data)
        shown = " ".join(result.stdout.split())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "audit log intact: 9 entries, hash chain verified" in shown
        assert "the newest, checkpoint 4 (8 entries" in shown
        assert "could not write a checkpoint (cannot write" in shown
        assert "Traceback" not in result.stderr
        assert len(list((data / "store" / CHECKPOINTS).iterdir())) == 4
        found = verify(bad)
        assert found.returncode == 1, found.stdout + found.stderr
        assert "entries 8 to 8 were deleted" in " ".join(found.stderr.split())
    finally:
        for folder, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                (Path(folder) / name).chmod(0o700)
        shutil.rmtree(top)
