"""The one visibility check (schemas.access): every read of a record by a caller and the
sharing use cases (share, unshare, set_public: for who `manages` the record) go through here;
indexing carries visibility (workers/visible_index.py). `pin_owners` is `sohoa migrate`'s
part: records from before owners existed get the installation's organ written down.

An invisible record answers exactly as a missing one (NotFound, "no document with id …"), so a
caller learns nothing about records it may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from organs.registry import RegistryError
from schemas.access import Viewer, Visibility
from schemas.errors import BadSetting, Forbidden, NotFound, SohoaError
from schemas.models import Document, DocumentStatus
from storage.access import Grant
from storage.records import OnDamaged
from workers.services import Services
from workers.visible_index import visibility_of


def resolve_visible(services: Services, viewer: Viewer, prefix: str) -> str:
    """The one record id starting with `prefix` among those `viewer` sees; NotFound otherwise
    (with the same words whether the others do not exist or are not visible)."""
    if viewer.unrestricted:
        return services.records.resolve(prefix)
    access = services.access
    seen = [
        doc.id
        for doc in services.records.readable(services.records.matching(prefix))
        if viewer.sees(visibility_of(access, doc))
    ]
    if len(seen) == 1:
        return seen[0]
    if not seen:
        raise NotFound(f"no document with id {prefix}")
    raise NotFound(f"id prefix {prefix} is ambiguous ({len(seen)} documents)")


def require_visible(services: Services, viewer: Viewer, prefix: str) -> Document:
    """The record `viewer` asked for, with its visibility attached; NotFound if it may not see
    it, as if it did not exist."""
    doc = services.records.require(resolve_visible(services, viewer, prefix))
    doc.visibility = visibility_of(services.access, doc)
    return doc


def visible_records(services: Services, viewer: Viewer, doc_ids: Iterable[str]) -> list[Document]:
    """The readable records of `doc_ids` that `viewer` sees, in order; others are left out."""
    access = services.access
    docs = []
    for doc in services.records.readable(doc_ids):
        doc.visibility = visibility_of(access, doc)
        if viewer.sees(doc.visibility):
            docs.append(doc)
    return docs


def own(services: Services, doc_id: str, organ_id: str) -> bool:
    """`organ_id` brought the bytes of record `doc_id`: it owns a new record, and is granted a
    known one owned by another organ. True when its visibility changed."""
    if not organ_id:
        return False
    access = services.access
    if access.claim_owner(doc_id, organ_id):
        return True
    if access.owner(doc_id) == organ_id:
        return False
    return access.grant(doc_id, organ_id, "upload")


def manages(viewer: Viewer, visibility: Visibility) -> bool:
    """Who may share a record or make it public: its owner organ, and unrestricted viewers."""
    return viewer.organs is None or visibility.owner in viewer.organs


def reindex(services: Services, doc: Document) -> None:
    """Index a record again after its visibility changed (what a search shows of it)."""
    if doc.status not in (DocumentStatus.done, DocumentStatus.partial):
        return
    targets = services.records.readable(doc.parts) if doc.parts else [doc]
    services.index.index(targets)


# ------------------------------------------------------------------ sharing (docs/access.md)


class UnknownOrgan(RegistryError):
    """A share, an owner or a user names an organ the registry does not hold."""

    code = "unknown_organ"
    exit_code = 2  # a usage error: the organ id given is wrong
    http_status = 422


class NotAShare(SohoaError):
    """Only an explicit share can be revoked: a delivery or an upload of the same bytes gave
    that organ its own copy, which taking the grant back would not undo."""

    code = "not_a_share"
    http_status = 409


class Sharing(BaseModel):
    """Who sees one record, as the share surfaces show it. `changed`: whether the call that
    answered it changed anything (sharing with the owner, or twice, does not)."""

    document_id: str
    owner: str
    public: bool
    organs: list[Grant]  # the record's grants, and those it inherits from the scan it was cut from
    changed: bool = False


def require_organ(services: Services, organ_id: str) -> str:
    """`organ_id` as the registry holds it; UnknownOrgan when it holds no such organ."""
    organ = services.organs().get(organ_id)
    if organ is None:
        raise UnknownOrgan(
            f"no organ {organ_id.strip()!r} in the organ registry (sohoa organs list)"
        )
    return organ.organ_id


def sharing(services: Services, viewer: Viewer, doc_id: str) -> Sharing:
    """The visibility of a record `viewer` sees (NotFound otherwise, as for a missing one)."""
    return _sharing(services, require_visible(services, viewer, doc_id), changed=False)


def share(services: Services, viewer: Viewer, doc_id: str, organ_id: str, by: str) -> Sharing:
    """Let the organ `organ_id` see the record too; only who manages it may."""
    doc = _managed(services, viewer, doc_id)
    organ_id = require_organ(services, organ_id)
    changed = organ_id != doc.visibility.owner and services.access.grant(
        doc.id, organ_id, "share", by=by
    )
    return _changed(services, doc, changed)


def unshare(services: Services, viewer: Viewer, doc_id: str, organ_id: str) -> Sharing:
    """Take back a share (nothing changes if there is none)."""
    doc = _managed(services, viewer, doc_id)
    organ_id = organ_id.strip()
    grant = next((g for g in services.access.grants(doc.id) if g.organ == organ_id), None)
    if grant is None:
        return _sharing(services, doc, changed=False)
    if grant.via != "share":
        raise NotAShare(
            f"organ {organ_id!r} sees document {doc.id[:12]} through {_VIA[grant.via]}, "
            "not a share: only shares can be revoked"
        )
    return _changed(services, doc, services.access.revoke(doc.id, organ_id))


def set_public(services: Services, viewer: Viewer, doc_id: str, public: bool, by: str) -> Sharing:
    """Make the record visible to everyone, or no longer."""
    doc = _managed(services, viewer, doc_id)
    changed = services.access.visibility(doc.id).public != public
    if changed:
        services.access.set_public(doc.id, public, by=by)
    return _changed(services, doc, changed)


_VIA = {"delivery": "an exchange delivery", "upload": "its own upload of the same file"}


def _managed(services: Services, viewer: Viewer, doc_id: str) -> Document:
    doc = require_visible(services, viewer, doc_id)
    if not manages(viewer, doc.visibility):
        owner = doc.visibility.owner or "no organ"
        raise Forbidden(f"only the owner organ ({owner}) may change who sees this document")
    return doc


def _changed(services: Services, doc: Document, changed: bool) -> Sharing:
    if changed:  # searches show the change at once
        reindex(services, doc)
    return _sharing(services, doc, changed)


def _sharing(services: Services, doc: Document, changed: bool) -> Sharing:
    access = services.access
    grants = list(access.grants(doc.id))
    if doc.source_id is not None:
        grants += access.grants(doc.source_id)
    visibility = visibility_of(access, doc)
    return Sharing(
        document_id=doc.id,
        owner=visibility.owner,
        public=visibility.public,
        organs=sorted(grants, key=lambda g: (g.organ, g.at)),
        changed=changed,
    )


# ------------------------------------------------------------------ migration


def pin_owners(services: Services, on_damaged: OnDamaged | None = None) -> int:
    """Write the installation's organ as the owner of every record that has none (ingested
    before owners existed); how many. Parts of a scan are left alone: they inherit its owner.
    Idempotent. BadSetting when some record needs an owner and `SOHOA_ORGAN` is not set."""
    access = services.access
    records = services.records.all(on_damaged) if on_damaged else services.records.all()
    unowned = [d.id for d in records if d.source_id is None and not access.has_owner(d.id)]
    if not unowned:
        return 0
    if not services.organ:
        raise BadSetting(
            f"{len(unowned)} record(s) have no owner organ and SOHOA_ORGAN is not set: "
            "set it to this installation's organ id (sohoa organs list) and run again"
        )
    if services.organs().get(services.organ) is None:
        raise BadSetting(f"SOHOA_ORGAN {services.organ!r} is no organ of the organ registry")
    return sum(access.claim_owner(doc_id, services.organ) for doc_id in unowned)
