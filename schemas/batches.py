"""An upload batch: the files one person sent through the upload page together, kept so that
they (or anyone of their organ) can come back later and see how each one ended."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class BatchFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str  # the name it came with (hostile text: shown escaped)
    document_id: str | None = None  # None: refused at upload, `error` says why
    outcome: str = ""  # what the upload answered: new | resumed | reused | same
    error: str | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    login: str  # who uploaded
    organ: str  # whose records they are: only this organ's users (and admins) see the batch
    created: datetime
    dossier: str | None = None  # file finished documents into this dossier code
    title: str | None = None  # the dossier's title, when it is made
    files: list[BatchFile] = Field(default_factory=list)
