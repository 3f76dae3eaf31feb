"""`sohoa organs …`, `sohoa exchange …` and `sohoa audit …` (mounted by app/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from app.config import Settings
from app.terminal import emit_json, err, fail, out, write_output
from exchange.models import Delivery, Kind, MessageState, OutboxEntry, Receipt
from exchange.statuses import STATUS_NAMES, Status, recipient_choices
from organs.registry import OrganRegistry
from schemas.errors import InputNotFound, NotFound, SohoaError, UnreadableInput
from schemas.models import LOCAL_ORGAN_PREFIX, Organ, is_local_organ

if TYPE_CHECKING:  # built on use (signxml, the worker runtime): kept out of the CLI's start
    from exchange.service import Exchange
    from workers.services import Services

EXIT_REJECTED = 1
# The CLI is the operator, on the machine that holds the store: it may send any record as any
# organ (app.cli.OPERATOR sees everything); the API checks the sender's visibility.
OPERATOR_SEES_ALL = True

organs_app = typer.Typer(help="The organ registry: who exists or existed, at which level.")
exchange_app = typer.Typer(help="edXML document exchange between organs (QCVN 102:2016).")
keys_app = typer.Typer(help="Organ key pairs and certificates.")
audit_app = typer.Typer(help="The append-only, hash-chained audit log.")
exchange_app.add_typer(keys_app, name="keys")

AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]
AsOrgan = Annotated[str, typer.Option("--as", help="Act as this organ (OrganId).")]
ORGAN_LINE = "{:<15} {:<8} {:<15} {:<21}  {}"  # `sohoa organs list`: one line an organ


def _settings(ctx: typer.Context) -> Settings:
    """The settings the main options parsed (app/cli.py hands its Context down in `ctx.obj`)."""
    return ctx.obj.settings


def _services(ctx: typer.Context):  # noqa: ANN202
    return ctx.obj.services


def _exchange(ctx: typer.Context, services=None):  # noqa: ANN001, ANN202
    from workers.exchange_setup import build_exchange

    return build_exchange(services or _services(ctx), registry=_registry(ctx))


def _registry(ctx: typer.Context) -> OrganRegistry:
    return ctx.obj.registry


# ------------------------------------------------------------------ organs


def organ_json(organ: Organ, registry: OrganRegistry) -> dict[str, Any]:
    return {
        **organ.model_dump(mode="json"),
        "ancestors": [a.organ_id for a in registry.ancestors(organ.organ_id)],
        "children": [c.organ_id for c in registry.children(organ.organ_id)],
        "records_held_by": [h.organ_id for h in registry.successors_now(organ.organ_id)],
    }


@organs_app.command("list")
def organs_list(
    ctx: typer.Context,
    level: Annotated[
        str | None, typer.Option(help="central, province, district or commune.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Every organ in the registry, by level."""
    registry = _registry(ctx)
    organs = [o for o in registry.all() if level is None or o.level.value == level]
    if level is not None and level not in ("central", "province", "district", "commune"):
        raise typer.BadParameter("level must be central, province, district or commune")
    if as_json:
        for organ in organs:
            emit_json(organ_json(organ, registry))
        return
    # One line an organ, not a Rich table (61k rows: 40 s of CPU, 0.5 GB before any output)
    head = ORGAN_LINE.format("OrganId", "level", "parent", "valid", "name")
    lines = [f"{len(organs)} organ(s)", head]
    for o in organs:
        valid = f"{o.valid_from or ''}–{o.valid_to or ''}"
        lines.append(ORGAN_LINE.format(o.organ_id, o.level.value, o.parent or "", valid, o.name))
    out.print(Text("\n".join(lines)))  # Text: a name's control characters are not printed


@organs_app.command("show")
def organs_show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="OrganId, or a name or part of one.")],
    as_json: AsJson = False,
) -> None:
    """One organ (or every organ a name matches): level, parent chain, children, validity."""
    registry = _registry(ctx)
    found = registry.lookup(key)
    if not found and is_local_organ(key.strip()):
        raise fail(NotFound(_local_code_note(registry, key.strip())))
    if not found:
        raise fail(NotFound(f"no organ matches {key!r}"))
    for organ in found:
        if as_json:
            emit_json(organ_json(organ, registry))
            continue
        chain = " › ".join(a.name for a in reversed(registry.ancestors(organ.organ_id)))
        out.print(f"[bold]{organ.organ_id}[/] {organ.name} ({organ.level.value})")
        out.print(f"  code: {_code_kind(organ)}")
        if chain:
            out.print(f"  under: {chain}")
        status = "abolished" if organ.valid_to else "active"
        out.print(f"  valid: {organ.valid_from or '?'} – {organ.valid_to or 'now'} ({status})")
        _print_history(registry, organ)
        for child in registry.children(organ.organ_id)[:SHOWN_CHILDREN]:
            out.print(f"  › {child.organ_id} {child.name}")
        more = len(registry.children(organ.organ_id)) - SHOWN_CHILDREN
        if more > 0:
            out.print(f"  › … and {more} more (sohoa organs show --json)")


def _local_code_note(registry: OrganRegistry, code: str) -> str:
    """What a `LOCAL-<parent>-<hash>` code is (pipeline/local_organ.py): not in the registry."""
    parent_id = code.removeprefix(LOCAL_ORGAN_PREFIX).rpartition("-")[0]
    parent = registry.get(parent_id)
    under = f"{parent.organ_id} {parent.name}" if parent else repr(parent_id)
    return (
        f"{code} is a local code sohoa gave an organ the registry does not list, under "
        f"{under}: not a QCVN 102 OrganId (docs/registry.md)"
    )


SHOWN_CHILDREN = 30  # a province of the national registry has hundreds of organs under it


def _code_kind(organ: Organ) -> str:
    kind = "official (QCVN 102)" if organ.code_kind == "official" else "local, not official"
    return kind + (", generated by rule" if organ.generated else "")


def _print_history(registry: OrganRegistry, organ: Organ) -> None:
    """Who it took over, who took it over, and who holds its records now."""
    for label, ids in (("took over", organ.predecessors), ("taken over by", organ.successors)):
        for organ_id in ids:
            other = registry.get(organ_id)
            out.print(f"  {label}: {organ_id} {other.name if other else '?'}")
    if organ.valid_to:
        holders = registry.successors_now(organ.organ_id)
        names = "; ".join(f"{h.organ_id} {h.name}" for h in holders) or "not known to this registry"
        out.print(f"  records now held by: {names}")


# ------------------------------------------------------------------ keys and tokens


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    organ_ids: Annotated[list[str] | None, typer.Argument(help="OrganIds.")] = None,
    all_organs: Annotated[bool, typer.Option("--all", help="Every organ in the registry.")] = False,
    reissue: Annotated[
        bool, typer.Option(help="A new certificate from the CA for the key the organ has.")
    ] = False,
    new_key: Annotated[
        bool, typer.Option(help="A new key and certificate (after a keyCompromise).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """An RSA key per organ and its certificate from the installation CA (`sohoa pki init`);
    existing ones are kept unless --reissue or --new-key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    ex = _exchange(ctx)
    ids = [o.organ_id for o in ex.registry.all()] if all_organs else list(organ_ids or [])
    if not ids:
        raise typer.BadParameter("name an OrganId or use --all")
    for organ_id in ids:
        try:
            pair = ex.create_keys(organ_id, reissue=reissue, new_key=new_key)
        except SohoaError as e:
            raise fail(e) from e
        cert = x509.load_pem_x509_certificate(pair.cert_pem)
        fingerprint = cert.fingerprint(hashes.SHA256()).hex()
        row = {
            "organ_id": organ_id,
            "certificate_sha256": fingerprint,
            "key": str(ex.keys.key_path(organ_id)),
            "valid_to": cert.not_valid_after_utc.isoformat(),
            "serial": pair.serial,
            "issuer": cert.issuer.rfc4514_string(),
        }
        if as_json:
            emit_json(row)
        else:
            out.print(
                f"{organ_id}: certificate {row['serial']} from {row['issuer']}, "
                f"SHA-256 {fingerprint[:32]}…, key {row['key']}"
            )


@keys_app.command("export")
def keys_export(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the PEM.")],
) -> None:
    """Write an organ's certificate (public part only), to give to a peer installation."""
    try:
        write_output(output, _exchange(ctx).keys.cert(organ_id))
    except SohoaError as e:
        raise fail(e) from e
    err.print(f"wrote the certificate of {organ_id} to {output}")


@keys_app.command("import")
def keys_import(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId of the peer organ.")],
    pem: Annotated[Path, typer.Argument(help="Its certificate, as `keys export` wrote it.")],
    as_json: AsJson = False,
) -> None:
    """Trust a peer organ's certificate, so its signed messages verify here."""
    ex = _exchange(ctx)
    try:
        ex.registry.require(organ_id)
        fingerprint = ex.keys.register_cert(organ_id, pem.read_bytes())
    except OSError as e:
        raise typer.BadParameter(f"{pem}: {e.strerror}") from e
    except SohoaError as e:
        raise fail(e) from e
    ex.audit.append(organ_id, "certificate", organ_id, sha256=fingerprint)
    if as_json:
        emit_json({"organ_id": organ_id, "certificate_sha256": fingerprint})
    else:
        out.print(f"{organ_id}: certificate SHA-256 {fingerprint[:32]}… registered")


@exchange_app.command("token")
def token(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    name: Annotated[str, typer.Option(help="A name to list and revoke it by.")] = "",
    as_json: AsJson = False,
) -> None:
    """Issue an API token for an organ (shown once, alone on its line; only its hash is
    stored)."""
    try:
        value = _exchange(ctx).issue_token(organ_id, name)
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json({"token": value})
    else:
        out.print(value)


@exchange_app.command("tokens")
def tokens(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    as_json: AsJson = False,
) -> None:
    """An organ's API tokens: name, first characters of the token's SHA-256, created, last
    used (never a token itself)."""
    try:
        found = _exchange(ctx).tokens(organ_id)
    except SohoaError as e:
        raise fail(e) from e
    rows = [
        {
            "name": t.name,
            "sha256_prefix": t.digest[:12],
            "created": t.created.isoformat() if t.created else None,
            "last_used": t.last_used.isoformat() if t.last_used else None,
        }
        for t in found
    ]
    if as_json:
        for row in rows:
            emit_json(row)
        return
    table = Table("name", "sha256", "created", "last used", title=f"{len(rows)} token(s)")
    for t, row in zip(found, rows, strict=True):
        table.add_row(
            t.shown_name, row["sha256_prefix"], row["created"] or "?", row["last_used"] or "never"
        )
    out.print(table)


@exchange_app.command("revoke")
def revoke(
    ctx: typer.Context,
    organ_id: Annotated[str, typer.Argument(help="OrganId.")],
    name: Annotated[str, typer.Argument(help="The token's name, or its sha256 prefix.")],
) -> None:
    """Revoke one of an organ's API tokens: the next request with it gets 401."""
    try:
        gone = _exchange(ctx).revoke_token(organ_id, name)
    except SohoaError as e:
        raise fail(e) from e
    err.print(f"token {gone.shown_name} of {organ_id} revoked")


# ------------------------------------------------------------------ files


@exchange_app.command("build")
def build(
    ctx: typer.Context,
    doc_ids: Annotated[list[str], typer.Argument(help="Document ids (prefixes ok).")],
    sender: Annotated[str, typer.Option("--from", help="Sending OrganId.")],
    recipients: Annotated[list[str], typer.Option("--to", help="Receiving OrganId(s).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .edxml file to write.")],
    attach: Annotated[str, typer.Option(help="original, searchable or both.")] = "original",
    as_json: AsJson = False,
) -> None:
    """Write a signed edXML envelope for stored records to a file."""
    ex = _exchange(ctx)
    try:
        env = ex.build(doc_ids, sender, recipients, attach=attach, unrestricted=OPERATOR_SEES_ALL)
        with ex.open_envelope(env.message_id) as src:
            write_output(output, src)
    except SohoaError as e:
        raise fail(e) from e
    summary = {
        "message_id": env.message_id,
        "file": str(output),
        "bytes": output.stat().st_size,
        "from": sender,
        "to": recipients,
        "document_id": env.document_id,
        "attachments": [a.name for a in env.attachments],
    }
    if as_json:
        emit_json(summary)
    else:
        err.print(f"wrote {output} ({summary['bytes']:,} bytes), message {env.message_id}")


def _receipt_json(receipt: Receipt) -> dict[str, Any]:
    body = receipt.model_dump(mode="json")
    body["status_name"] = STATUS_NAMES[receipt.status.value]
    body["reuse"] = receipt.reuse_counts
    return body


def _print_receipt(receipt: Receipt) -> None:
    name = STATUS_NAMES[receipt.status.value]
    style = "red" if receipt.status == Status.rejected else "green"
    dup = " (duplicate: already accepted once)" if receipt.duplicate else ""
    out.print(
        f"message {receipt.message_id or '?'}: [{style}]{receipt.status.value} {name}[/]{dup}"
    )
    if receipt.reason:
        out.print(f"  reason: {receipt.reason}")
    for a in receipt.attachments:
        out.print(f"  {a.name}: {a.outcome} → record {(a.record_id or '')[:12]}")
    if receipt.copies:
        out.print(f"  other copies of this paper: {', '.join(c[:12] for c in receipt.copies)}")
    if receipt.trace:
        out.print("  trace: " + " → ".join(t.organ_id for t in receipt.trace))


@exchange_app.command("receive")
def receive(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An .edxml file.")],
    as_organ: AsOrgan,
    as_json: AsJson = False,
) -> None:
    """Verify and import one envelope: known attachments link to their records, new ones are
    processed; exit code 1 when the message is rejected (status 02)."""
    from workers.exchange_jobs import receive_file

    settings = _settings(ctx)
    services = _services(ctx)
    if not file.is_file():  # read as a stream by receive: it can be as large as the limit
        raise fail(InputNotFound(f"cannot read {file}: no such file"))
    try:
        receipt = receive_file(
            services, _registry(ctx), settings.broker, settings.workers, file, as_organ
        )
    except SohoaError as e:
        raise fail(e) from e
    except OSError as e:
        raise fail(UnreadableInput(f"cannot read {file}: {e.strerror}")) from e
    if as_json:
        emit_json(_receipt_json(receipt))
    else:
        _print_receipt(receipt)
    raise typer.Exit(EXIT_REJECTED if receipt.status == Status.rejected else 0)


# ------------------------------------------------------------------ outbox


def _deliver(
    ctx: typer.Context,
    ex: Exchange,
    services: Services,
    message_id: str,
    recipients: list[str],
    wait: bool,
) -> list[OutboxEntry]:
    """Queue one delivery per recipient; on the embedded default (or with --wait) wait for it."""
    from workers.exchange_jobs import deliver_and_wait

    settings = _settings(ctx)
    return deliver_and_wait(
        ex, services, settings.broker, settings.workers, message_id, recipients, wait=wait
    )


def _print_outbox(message_id: str, entries: list[OutboxEntry], as_json: bool) -> int:
    failed = any(e.state in (Delivery.rejected, Delivery.failed) for e in entries)
    if as_json:
        emit_json(
            {
                "message_id": message_id,
                "deliveries": [
                    {
                        "to": e.recipient,
                        "state": e.state.value,
                        "attempts": e.attempts,
                        "error": e.last_error,
                        "receipt": _receipt_json(e.receipt) if e.receipt else None,
                    }
                    for e in entries
                ],
            }
        )
    else:
        out.print(f"message {message_id}")
        for e in entries:
            style = {Delivery.delivered: "green", Delivery.pending: "yellow"}.get(e.state, "red")
            reuse = e.receipt.reuse_counts if e.receipt else {}
            extra = f" reuse {reuse}" if reuse else ""
            reason = f" — {e.last_error}" if e.last_error else ""
            out.print(
                f"  → {e.recipient}: [{style}]{e.state.value}[/] ({e.attempts} attempt(s))"
                f"{extra}{reason}"
            )
    return EXIT_REJECTED if failed else 0


@exchange_app.command("send")
def send(
    ctx: typer.Context,
    doc_ids: Annotated[list[str] | None, typer.Argument(help="Document ids (prefixes ok).")] = None,
    sender: Annotated[str, typer.Option("--from", "--as", help="Sending OrganId.")] = "",
    recipients: Annotated[list[str] | None, typer.Option("--to", help="OrganId(s).")] = None,
    forward: Annotated[
        str | None, typer.Option(help="Forward this received message (its files and trace).")
    ] = None,
    responds_to: Annotated[
        str | None, typer.Option("--responds-to", help="The message this one answers.")
    ] = None,
    kind: Annotated[str, typer.Option(help="new, update or replace (recall: see recall).")] = "new",
    reason: Annotated[str, typer.Option(help="Bussiness reason (update/replace).")] = "",
    attach: Annotated[str, typer.Option(help="original, searchable or both.")] = "original",
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="With a server broker: wait for delivery.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Sign and send records (or forward a message) through the outbox, with retries."""
    if not sender or not recipients:
        raise typer.BadParameter("--from and at least one --to are required")
    kinds = {"new": Kind.new, "update": Kind.update, "replace": Kind.replace}
    if kind not in kinds:
        raise typer.BadParameter("--kind must be new, update or replace")
    services = _services(ctx)
    ex = _exchange(ctx, services)
    try:
        earlier = ex.resolve(forward or responds_to) if (forward or responds_to) else None
        message_id = ex.send(
            list(doc_ids or []),
            sender,
            list(recipients),
            kind=kinds[kind],
            responds_to=earlier,
            reason=reason,
            attach=attach,
            unrestricted=OPERATOR_SEES_ALL,
        )
    except SohoaError as e:
        raise fail(e) from e
    entries = _deliver(ctx, ex, services, message_id, list(recipients), wait)
    raise typer.Exit(_print_outbox(message_id, entries, as_json))


@exchange_app.command("retry")
def retry(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(help="A message you sent.")],
    as_organ: AsOrgan,
    wait: Annotated[bool, typer.Option("--wait/--no-wait")] = False,
    as_json: AsJson = False,
) -> None:
    """Queue again the deliveries of a message that failed (or never left the outbox)."""
    services = _services(ctx)
    ex = _exchange(ctx, services)
    try:
        full = ex.resolve(message_id)
        recipients = ex.retry(full, as_organ)
    except SohoaError as e:
        raise fail(e) from e
    entries = _deliver(ctx, ex, services, full, recipients, wait) if recipients else ex.outbox(full)
    raise typer.Exit(_print_outbox(full, entries, as_json))


@exchange_app.command("recall")
def recall(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(help="The message to recall.")],
    as_organ: AsOrgan,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    wait: Annotated[bool, typer.Option("--wait/--no-wait")] = False,
    as_json: AsJson = False,
) -> None:
    """Recall (revoke, kind 1) a message you sent; recipients answer 15 agree or 16 refuse."""
    services = _services(ctx)
    ex = _exchange(ctx, services)
    try:
        target = ex.resolve(message_id)
        recall_id = ex.recall(target, as_organ, reason)
        recipients = ex.state(recall_id).recipients
    except SohoaError as e:
        raise fail(e) from e
    entries = _deliver(ctx, ex, services, recall_id, recipients, wait)
    raise typer.Exit(_print_outbox(recall_id, entries, as_json))


def _print_states(states: list[MessageState], ex, as_json: bool) -> None:  # noqa: ANN001
    rows = []
    for s in sorted(states, key=lambda s: s.created_at):
        latest = {}
        for st in ex.statuses(s.message_id):
            latest[st.organ_id] = st.code.value
        rows.append({**s.model_dump(mode="json"), "statuses": latest})
    if as_json:
        for row in rows:
            emit_json(row)
        return
    table = Table("message", "from", "to", "kind", "subject", "status", title=f"{len(rows)}")
    for r in rows:
        status = ", ".join(f"{o}:{c}" for o, c in r["statuses"].items())
        table.add_row(
            r["message_id"][:12],
            r["sender"],
            ", ".join(r["recipients"]),
            r["kind"],
            (r["subject"] or "")[:50],
            status,
        )
    out.print(table)


@exchange_app.command("inbox")
def inbox(ctx: typer.Context, as_organ: AsOrgan, as_json: AsJson = False) -> None:
    """Messages sent to an organ, with their latest statuses."""
    ex = _exchange(ctx)
    try:
        states = ex.inbox(as_organ)
    except SohoaError as e:
        raise fail(e) from e
    _print_states(states, ex, as_json)


@exchange_app.command("sent")
def sent(ctx: typer.Context, as_organ: AsOrgan, as_json: AsJson = False) -> None:
    """Messages an organ sent, with the statuses its recipients reported."""
    ex = _exchange(ctx)
    try:
        states = ex.sent(as_organ)
    except SohoaError as e:
        raise fail(e) from e
    _print_states(states, ex, as_json)


@exchange_app.command("status")
def status(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(help="Message id (prefix ok).")],
    as_organ: AsOrgan,
    set_code: Annotated[
        str | None, typer.Option("--set", help=f"Recipient: {recipient_choices()}.")
    ] = None,
    note: Annotated[str, typer.Option(help="Description sent with --set.")] = "",
    as_json: AsJson = False,
) -> None:
    """A message's statuses (who reported what, when); recipients report progress with --set."""
    ex = _exchange(ctx)
    try:
        full = ex.resolve(message_id)
        if set_code:
            ex.set_status(full, as_organ, Status(set_code), note)
        shown = ex.show(full, as_organ)
    except ValueError as e:
        raise typer.BadParameter(f"--set {set_code}: not a status code") from e
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json(shown)
        return
    msg = shown["message"]
    out.print(
        f"message {msg['message_id']} {msg['sender']} → {', '.join(msg['recipients'])} "
        f"(kind {msg['kind']}) {msg['subject'] or ''}"
    )
    for s in shown["statuses"]:
        out.print(
            f"  {s['at'][:19]} {s['organ_id']}: {s['code']} {STATUS_NAMES[s['code']]}"
            f"{' — ' + s['description'] if s['description'] else ''}"
        )
    for e in shown["outbox"]:
        out.print(f"  outbox → {e['recipient']}: {e['state']} ({e['attempts']} attempt(s))")


@exchange_app.command("public")
def public(ctx: typer.Context, message_id: str, as_organ: AsOrgan) -> None:
    """Mark a message you sent as public: every organ may then read it."""
    ex = _exchange(ctx)
    try:
        ex.make_public(ex.resolve(message_id), as_organ)
    except SohoaError as e:
        raise fail(e) from e
    err.print(f"message {message_id} is public")


# ------------------------------------------------------------------ audit


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Check the hash chain against the signed checkpoints, then (only when everything holds)
    write a checkpoint of what was verified; exit code 1 names the tampering found, and then
    nothing is written (docs/exchange.md: what it proves). A read-only data folder is verified
    all the same, with a line saying no checkpoint could be written."""
    from exchange.audit import AuditLog

    services = _services(ctx)
    try:
        report = AuditLog.for_options(services.store, services.exchange).verify_and_checkpoint()
    except SohoaError as e:
        raise fail(e) from e
    if as_json:
        emit_json(report.as_json())
    elif not report.ok:
        before = f" (entries before it verified: {report.entries})" if report.entries else ""
        err.print(f"[red]audit log tampered with:[/] {report.problem}{before}", soft_wrap=True)
    elif report.entries == 0 and report.checkpoints == 0:
        out.print("audit log intact (empty): no entries, no checkpoints")
    else:
        out.print(f"audit log intact: {report.entries} entries, hash chain verified")
        if report.latest is not None:
            out.print(
                f"  {report.checkpoints} signed checkpoint(s) verified; the newest, "
                f"{report.latest.describe()}, matches the chain"
            )
        if report.written is not None:
            out.print(f"  written: {report.written.describe()}")
    if report.note and not as_json:  # e.g. a read-only data folder: the result above stands
        (out if report.ok else err).print(f"  {report.note}", soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: AsJson = False,
) -> None:
    """The latest audit entries."""
    from exchange.audit import AuditLog

    entries = AuditLog(_services(ctx).store).entries()[-limit:]
    for e in entries:
        if as_json:
            emit_json(e.model_dump(mode="json"))
        else:
            out.print(
                f"{e.seq:6d} {e.at:%Y-%m-%d %H:%M:%S} {e.organ_id} {e.action} {e.target} "
                f"{json.dumps(e.detail, ensure_ascii=False) if e.detail else ''}"
            )


def mount(app: typer.Typer) -> None:
    app.add_typer(organs_app, name="organs")
    app.add_typer(exchange_app, name="exchange")
    app.add_typer(audit_app, name="audit")
