"""A library's error text made fit for a user: no path of the store in it (docs/limits.md).

Decoders name the file they read in their errors (Pillow the file object, qpdf the path), and
the file they read is the store's copy of the original: its path is internal and means nothing
to the user, who knows the file by the name they gave.
"""

from __future__ import annotations

import re
from pathlib import Path

_FILE_OBJECT = re.compile(r"<_io\.\w+ name=(?:'[^']*'|\"[^\"]*\"|\d+)[^>]*>")
_QUOTED_PATH = re.compile(r"""(['"])/[^'"\n]*\1""")


def library_text(error: BaseException, path: Path | None = None) -> str:
    """The error's first line, the file it read named "the file"."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if path is not None:
        for shown in {str(path), str(path.resolve()), path.as_posix()}:
            text = text.replace(shown, "the file")
    text = _FILE_OBJECT.sub("the file", text)
    return _QUOTED_PATH.sub("the file", text)[:300]
