"""Logging of the CLI and of `sohoa worker` processes: one line per problem on stderr.

Every failure is already in its file's row (or record) with its reason, so by default stderr
gets sohoa's own warnings and any library's errors, each on one line: an exception as its type
and message, never its traceback. `--verbose` (SOHOA_VERBOSE=1 in worker processes) shows
everything: INFO lines, tracebacks, libraries' warnings and Python warnings as they come.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from types import TracebackType

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OURS = "sohoa"


class OneLine(logging.Formatter):
    """A record on one line; its exception as `Type: message`, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        error = record.exc_info[1] if record.exc_info else None
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        if error is not None and str(error) not in line:
            line += f" ({type(error).__name__}: {error})"
        return " | ".join(part.strip() for part in line.splitlines() if part.strip())


class OursOrErrors(logging.Filter):
    """sohoa's own warnings, other libraries' errors: a library's warning (img2pdf's 'page too
    small', Python warnings) repeats in its words a problem our own line already reports."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == OURS or record.name.startswith(OURS + ".")
        return ours or record.levelno >= logging.ERROR


def configure_logging(verbose: bool) -> None:
    """Once per process, before any worker thread. Handlers already set up (Dramatiq's in its
    worker processes) are kept, and given the same format and filter."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=FORMAT, stream=sys.stderr)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.captureWarnings(True)  # Python warnings as log records: one line, or shown with -v
    for handler in root.handlers:
        handler.setFormatter(logging.Formatter(FORMAT) if verbose else OneLine(FORMAT))
        for old in [f for f in handler.filters if isinstance(f, OursOrErrors)]:
            handler.removeFilter(old)  # called again in one process (tests): the last call wins
        if not verbose:
            handler.addFilter(OursOrErrors())
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger(OURS).critical("stopped: unexpected error", exc_info=(kind, error, trace))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    name = args.thread.name if args.thread else "?"
    logging.getLogger(OURS).error(
        "thread %s stopped: unexpected error",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


_CSRF_IN_QUERY = re.compile(r"(csrf_token=)[^&\s]*")


class NoTokensInAccessLog(logging.Filter):
    """uvicorn's access lines (`client - "METHOD path?query HTTP/1.1" status`) with the value of
    `csrf_token=` replaced: the upload form without JS carries the session's CSRF token in its
    action URL (app/auth.py), and a secret is never written to a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = _CSRF_IN_QUERY.sub(r"\1[redacted]", args[2])
            record.args = (*args[:2], path, *args[3:])
        return True
