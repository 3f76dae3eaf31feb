"""`sohoa pki …` (the installation CA, trust anchors, revocation) and `sohoa exchange keys
csr/install` (certificates issued by a CA elsewhere); mounted by app/cli.py. The trust model is
in docs/exchange.md ("Trust")."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from app.exchange_cli import AsJson, _exchange, _settings, keys_app
from app.terminal import emit_json, err, fail, out, write_output
from schemas.errors import OutputNotWritable, SohoaError, UnreadableInput

pki_app = typer.Typer(help="The installation CA, trusted roots and revoked certificates.")


def _passphrase(ctx: typer.Context) -> bytes:
    """SOHOA_PKI_PASSPHRASE, or asked twice on the terminal (never echoed, never printed)."""
    secret = _settings(ctx).pki_passphrase.get_secret_value()
    if not secret:
        secret = typer.prompt("root CA key passphrase", hide_input=True, confirmation_prompt=True)
    return secret.encode()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise fail(UnreadableInput(f"cannot read {path}: {e.strerror or e}")) from e


@pki_app.command("init")
def pki_init(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(help="Name in the CA certificates (default: sohoa and a random tag)."),
    ] = None,
    root_key: Annotated[
        Path | None,
        typer.Option(
            "--root-key",
            help="Write the encrypted root key here (e.g. a removable disk) instead of the "
            "data folder: the root stays offline.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create the installation CA: a root (a trust anchor) and an issuing CA under it."""
    ex = _exchange(ctx)
    name = name or f"sohoa {uuid.uuid4().hex[:8]}"  # peers tell installations apart by it
    try:
        root, issuing, key_path = ex.ctx.pki.init(name, _passphrase(ctx), root_key_out=root_key)
    except OSError as e:
        raise fail(OutputNotWritable(f"cannot write the CA keys: {e.strerror or e}")) from e
    except SohoaError as e:
        raise fail(e) from e
    row = {
        "root_sha256": root.fingerprint(_sha256()).hex(),
        "issuing_sha256": issuing.fingerprint(_sha256()).hex(),
        "root_key": str(key_path),
        "valid_to": root.not_valid_after_utc.isoformat(),
    }
    ex.audit.append("", "pki-init", f"sha256:{row['root_sha256']}", root_key=row["root_key"])
    if as_json:
        emit_json(row)
        return
    out.print(f"root CA SHA-256 {row['root_sha256']} (trusted here)")
    out.print(f"issuing CA SHA-256 {row['issuing_sha256']}")
    out.print(f"root key (encrypted): {key_path}")


def _sha256():  # noqa: ANN202
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


@pki_app.command("trust")
def pki_trust(
    ctx: typer.Context,
    pem: Annotated[Path, typer.Argument(help="A root CA certificate (PEM).")],
    as_json: AsJson = False,
) -> None:
    """Trust a root: a national CA, a peer installation's root, or a legacy self-issued organ
    certificate (docs/exchange.md, migration)."""
    ex = _exchange(ctx)
    try:
        cert = ex.ctx.pki.trust(_read(pem))
    except SohoaError as e:
        raise fail(e) from e
    digest = cert.fingerprint(_sha256()).hex()
    subject = cert.subject.rfc4514_string()
    ex.audit.append("", "pki-trust", f"sha256:{digest}", subject=subject)
    if as_json:
        emit_json({"sha256": digest, "subject": subject})
    else:
        out.print(f"trusted {subject} (SHA-256 {digest})")


@pki_app.command("export")
def pki_export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the PEM.")],
) -> None:
    """Write the installation's root certificate and its issuing CA, for peers to `pki trust`
    (they check the issuing CA's CRL with it)."""
    from cryptography.hazmat.primitives import serialization

    try:
        pki = _exchange(ctx).ctx.pki
        root = pki.root()
        write_output(output, root.public_bytes(serialization.Encoding.PEM) + pki.chain())
    except SohoaError as e:
        raise fail(e) from e
    err.print(f"wrote the root certificate {root.fingerprint(_sha256()).hex()} to {output}")


@pki_app.command("untrust")
def pki_untrust(
    ctx: typer.Context,
    sha256: Annotated[str, typer.Argument(help="The anchor's SHA-256 (8+ characters).")],
) -> None:
    """Stop trusting a root (`pki list` shows them)."""
    ex = _exchange(ctx)
    try:
        cert = ex.ctx.pki.untrust(sha256)
    except SohoaError as e:
        raise fail(e) from e
    digest = cert.fingerprint(_sha256()).hex()
    ex.audit.append("", "pki-untrust", f"sha256:{digest}")
    out.print(f"no longer trusted: {cert.subject.rfc4514_string()}")


@pki_app.command("list")
def pki_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Trust anchors and revoked certificates."""
    pki = _exchange(ctx).ctx.pki
    anchors = [
        {
            "sha256": c.fingerprint(_sha256()).hex(),
            "subject": c.subject.rfc4514_string(),
            "valid_to": c.not_valid_after_utc.isoformat(),
        }
        for c in pki.anchors()
    ]
    revoked = [r.__dict__ for r in pki.revocations()]
    if as_json:
        emit_json({"anchors": anchors, "revoked": revoked})
        return
    for a in anchors:
        out.print(f"anchor {a['sha256'][:16]}… {a['subject']} (to {a['valid_to'][:10]})")
    for r in revoked:
        out.print(f"revoked {r['serial']} {r['organ_id']} {r['reason']} at {r['revoked_at']}")


@pki_app.command("revoke")
def pki_revoke(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="An OrganId, or a certificate serial (hex).")],
    reason: Annotated[
        str,
        typer.Option(help="RFC 5280: keyCompromise, superseded, cessationOfOperation, …"),
    ] = "unspecified",
    as_json: AsJson = False,
) -> None:
    """Revoke certificates the installation CA issued, and publish the new CRL. Messages
    signed before now stay valid; messages signed after are rejected."""
    ex = _exchange(ctx)
    try:
        done = ex.ctx.pki.revoke(target, reason)
    except SohoaError as e:
        raise fail(e) from e
    for rev in done:
        ex.audit.append(rev.organ_id, "pki-revoke", f"serial:{rev.serial}", reason=rev.reason)
        if as_json:
            emit_json(rev.__dict__)
        else:
            out.print(f"revoked {rev.serial} ({rev.organ_id}, {rev.reason}) at {rev.revoked_at}")
    err.print("published the new CRL")


@pki_app.command("crl")
def pki_crl(
    ctx: typer.Context,
    import_file: Annotated[
        Path | None, typer.Option("--import", help="Keep a CRL another CA published.")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", help="Also write ours here (DER).")] = None,
) -> None:
    """Publish a fresh CRL of the installation CA (before the last one's nextUpdate), or keep
    one of another CA (checked against its certificate)."""
    from cryptography.hazmat.primitives import serialization

    pki = _exchange(ctx).ctx.pki
    try:
        crl = pki.import_crl(_read(import_file)) if import_file else pki.publish_crl()
    except SohoaError as e:
        raise fail(e) from e
    if output is not None:
        try:
            write_output(output, crl.public_bytes(serialization.Encoding.DER))
        except SohoaError as e:
            raise fail(e) from e
    out.print(
        f"CRL of {crl.issuer.rfc4514_string()}: {len(list(crl))} revoked, "
        f"next update {crl.next_update_utc:%Y-%m-%d}"
    )


@keys_app.command("csr")
def keys_csr(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the CSR.")],
) -> None:
    """A certificate signing request for the organ's key (made if needed), for a CA elsewhere."""
    ex = _exchange(ctx)
    try:
        write_output(output, ex.keys.csr(organ_id, ex.organ(organ_id).name))
    except SohoaError as e:
        raise fail(e) from e
    err.print(f"wrote the certificate request of {organ_id} to {output}")


@keys_app.command("install")
def keys_install(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    pem: Annotated[Path, typer.Argument(help="Its certificate (and chain), PEM.")],
    as_json: AsJson = False,
) -> None:
    """Install the organ's certificate issued elsewhere: it must be for the organ's key and
    verify here now (its root trusted with `pki trust`)."""
    ex = _exchange(ctx)
    try:
        pair = ex.install_certificate(organ_id, _read(pem))
    except SohoaError as e:
        raise fail(e) from e
    cert = pair.certificate
    row = {
        "organ_id": organ_id,
        "serial": pair.serial,
        "issuer": cert.issuer.rfc4514_string(),
        "valid_to": cert.not_valid_after_utc.isoformat(),
    }
    if as_json:
        emit_json(row)
    else:
        out.print(f"{organ_id}: certificate {row['serial']} from {row['issuer']} installed")


def mount(app: typer.Typer) -> None:
    app.add_typer(pki_app, name="pki")
