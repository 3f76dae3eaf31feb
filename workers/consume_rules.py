"""What a file of the scanner folder is ingested as: its owner organ, dossier, dossier title and
priority, from the watcher's options, the subfolder's name (`2023.HS-12/…` with
--dossier-from-subfolder) and the `.sohoa.toml` files of its folder and the folders above it
(the nearest one wins for each key):

    title = "Hồ sơ tuyển dụng 2023"   # the dossier's title
    owner = "000.00.00.H01"           # the organ that owns the records (an OrganId)
    dossier = "2023.HS-12"            # the dossier code (else the subfolder's name, if asked)
    priority = 5                      # -100…100, higher first (default 0)

A file that cannot be read or holds anything else makes every file it governs fail with the
reason (they go to failed/); the watcher goes on with the others."""

from __future__ import annotations

import errno
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.errors import SohoaError
from schemas.text import nfc
from storage.dossiers import check_file_code
from workers.consume_folder import read_regular
from workers.inputs import safe_text

RULES_FILE = ".sohoa.toml"
MAX_RULES_BYTES = 64 * 1024
CACHED = 1024  # parsed rule files kept (by path, size and change time)


class FolderFile(BaseModel):
    """The keys a `.sohoa.toml` may hold; any other is a mistake worth failing for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=500)
    owner: str | None = Field(default=None, min_length=1, max_length=100)
    dossier: str | None = Field(default=None, min_length=1, max_length=80)
    priority: int | None = Field(default=None, ge=-100, le=100)


@dataclass(frozen=True)
class Rules:
    owner: str | None = None  # None: the watcher's --owner, else the installation's organ
    dossier: str | None = None
    title: str | None = None  # only with a dossier: it is the dossier's title
    priority: int = 0
    error: str | None = None  # why no file under these rules can be ingested

    @property
    def group(self) -> tuple[str | None, str | None, str | None, str | None]:
        """Files with equal groups may be ingested together (one batch of the use case)."""
        return (self.owner, self.dossier, self.title, self.error)


class RulesBook:
    def __init__(
        self, root: Path, *, owner: str | None = None, dossier_from_subfolder: bool = False
    ) -> None:
        self.root = root
        self.owner = owner
        self.dossier_from_subfolder = dossier_from_subfolder
        self._parsed: dict[Path, tuple[tuple[int, int], FolderFile | str]] = {}

    def rules_for(self, rel: Path) -> Rules:
        """The rules of the file at `rel` (relative to the watched folder)."""
        rules = Rules(owner=self.owner)
        if self.dossier_from_subfolder and len(rel.parts) > 1:
            sub = nfc(rel.parts[0])
            try:
                rules = replace(rules, dossier=check_file_code(sub))
            except SohoaError as e:
                return replace(rules, error=f"subfolder {sub!r} is not a dossier code: {e.message}")
        folder = self.root
        for part in ("", *rel.parts[:-1]):
            folder = folder / part if part else folder
            found = self._read(folder / RULES_FILE)
            if isinstance(found, str):
                return replace(rules, error=found)
            if found is not None:
                rules = _apply(rules, found)
        if rules.dossier is None:
            rules = replace(rules, title=None)
        return rules

    def _read(self, path: Path) -> FolderFile | str | None:
        """The parsed file, the reason it is bad, or None when there is none."""
        try:
            st = path.lstat()
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        parsed = _parse(path, self.root, st.st_size)
        if len(self._parsed) >= CACHED:
            self._parsed.clear()
        self._parsed[path] = (stamp, parsed)
        return parsed


def _parse(path: Path, root: Path, size: int) -> FolderFile | str:
    shown = safe_text(path.relative_to(root).as_posix())[0]  # a name's bytes may not be UTF-8
    if size > MAX_RULES_BYTES:
        return f"{shown}: larger than {MAX_RULES_BYTES // 1024} KiB"
    try:
        raw = read_regular(path, MAX_RULES_BYTES + 1)
        if len(raw) > MAX_RULES_BYTES:  # grew since it was measured
            return f"{shown}: larger than {MAX_RULES_BYTES // 1024} KiB"
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as e:
        if e.errno == errno.ELOOP:  # O_NOFOLLOW met a link
            return f"{shown}: a symbolic link, not followed (put the file itself here)"
        if e.errno == errno.EINVAL:
            return f"{shown}: not a regular file (a FIFO or a device is not read)"
        return f"{shown}: cannot be read ({e.strerror})"
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return f"{shown}: not a readable TOML file ({e})"
    try:
        parsed = FolderFile.model_validate(data)
        if parsed.dossier is not None:
            check_file_code(nfc(parsed.dossier))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in e.errors()
        )
        return f"{shown}: {problems} (allowed keys: title, owner, dossier, priority)"
    except SohoaError as e:
        return f"{shown}: {e.message}"
    return parsed


def _apply(rules: Rules, found: FolderFile) -> Rules:
    return replace(
        rules,
        owner=nfc(found.owner) if found.owner else rules.owner,
        dossier=nfc(found.dossier) if found.dossier else rules.dossier,
        title=nfc(found.title) if found.title else rules.title,
        priority=found.priority if found.priority is not None else rules.priority,
    )
