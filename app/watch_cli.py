"""`sohoa watch FOLDER`: the scanner folder (workers/consume.py), its lines in `sohoa status`,
and `sohoa worker` watching SOHOA_CONSUME_DIR beside its workers."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from app.compose import Context
from app.config import Settings
from app.terminal import err, fail, out
from schemas.errors import InputNotFound, SohoaError
from workers.consume import Consumed, ConsumeFolder, ConsumeOptions, Consumer
from workers.consume_folder import WatchState, exclusive
from workers.consume_watch import HEARTBEAT_S, WatchOptions, run
from workers.inputs import safe_text
from workers.runtime import WorkerPool

REMEMBERED = "consume-folders.txt"  # in the data folder: the folders `sohoa status` reports
LOCK_RETRY_S = 5.0


def mount(app: typer.Typer) -> None:
    app.command("watch")(watch)


def watch(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Argument(help="The folder scanners drop files into (default: SOHOA_CONSUME_DIR)."),
    ] = None,
    dossier_from_subfolder: Annotated[
        bool | None,
        typer.Option(
            "--dossier-from-subfolder/--no-dossier-from-subfolder",
            help="A top subfolder's name is the dossier code of its files (2023.HS-12/…).",
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner organ (default: SOHOA_ORGAN).")
    ] = None,
    polling: Annotated[
        bool | None,
        typer.Option(
            "--polling/--events",
            help="Walk the folder every --poll-interval instead of file events (network shares).",
        ),
    ] = None,
    poll_interval: Annotated[
        float | None, typer.Option(min=0.05, help="Seconds between walks when polling.")
    ] = None,
    settle: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds a file must stay unchanged before it is taken."),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Take what is there, then stop (no watching).")
    ] = False,
) -> None:
    """Ingest every file dropped into FOLDER, once, then move it to FOLDER/done/ or
    FOLDER/failed/ (with a .reason.txt); a `.sohoa.toml` in a subfolder sets title, owner,
    dossier, priority."""
    context: Context = ctx.obj
    settings = context.settings
    chosen = folder or (Path(settings.consume_dir) if settings.consume_dir else None)
    if chosen is None:
        raise typer.BadParameter("name the FOLDER to watch (or set SOHOA_CONSUME_DIR)")
    consume = ConsumeOptions(
        owner=owner or settings.consume_owner or None,
        dossier_from_subfolder=(
            settings.consume_dossier_from_subfolder
            if dossier_from_subfolder is None
            else dossier_from_subfolder
        ),
        settle_s=settings.consume_settle_seconds if settle is None else settle,
    )
    looping = WatchOptions(
        polling=settings.consume_polling if polling is None else polling,
        poll_s=poll_interval or settings.consume_poll_seconds,
        once=once,
    )
    try:
        with WorkerPool(
            context.services, settings.broker, settings.workers, consume=not settings.broker
        ) as pool:
            failed = watch_folder(context, chosen, pool, consume, looping)
    except SohoaError as e:
        raise fail(e) from e
    raise typer.Exit(1 if failed else 0)


def watch_folder(
    context: Context,
    root: Path,
    pool: WorkerPool,
    options: ConsumeOptions,
    looping: WatchOptions,
) -> int:
    """Hold the folder's lock (waiting while another watcher holds it) and consume it until
    interrupted (SIGTERM, Ctrl-C) or, `once`, until nothing is left; files that failed."""
    if not root.is_dir():
        raise InputNotFound(f"{root}: no such folder")
    folder = ConsumeFolder(root)
    _remember(context.settings, folder.root)
    if folder.writable_by_anyone():  # the folder's permissions are its only trust boundary
        err.print(
            f"warning: {folder.root} is writable by every user of this machine: anyone can "
            "choose what is archived, and for which organ (.sohoa.toml); give write access "
            "to the scanner accounts only (README: Scanner folder)",
            markup=False,
            soft_wrap=True,
        )
    stop = threading.Event()
    failures = [0]

    def tell(consumed: Consumed) -> None:
        failures[0] += 0 if consumed.ok else 1
        _print_consumed(folder, consumed)

    previous = signal.signal(signal.SIGTERM, _interrupt)
    waiting = False
    try:
        while True:
            with exclusive(folder) as held:
                if held is not None:
                    consumer = Consumer(context.services, folder, pool, options, tell)
                    err.print(f"watching {folder.root}", markup=False, soft_wrap=True)
                    run(consumer, looping, stop)
                    return failures[0] + consumer.stalls + len(consumer.stuck)
            if looping.once:
                raise SohoaError(f"another watcher is consuming {folder.root}")
            if not waiting:  # said once: a scaled-out worker may wait for hours
                err.print(f"another watcher is consuming {folder.root}: waiting", markup=False)
                waiting = True
            time.sleep(LOCK_RETRY_S)
    except KeyboardInterrupt:
        err.print("watch: stopping (files being ingested are taken again on the next start)")
        return failures[0]
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same path as Ctrl-C: the observer and workers stop cleanly


def _print_consumed(folder: ConsumeFolder, consumed: Consumed) -> None:
    # escaped like the file's name: a newline in a name must not forge a line of this output
    place = safe_text(consumed.place.relative_to(folder.root).as_posix())[0]
    line = Text(f"{consumed.result:<8} {consumed.file} → {place}")
    if consumed.doc_id:
        line.append(f" ({consumed.doc_id[:12]})")
    if consumed.reason:
        line.append(f": {consumed.reason}", style="red")
    out.print(line)


def watch_beside_workers(context: Context, command: list[str]) -> None:
    """`sohoa worker` with a server broker and SOHOA_CONSUME_DIR: the Dramatiq workers run as
    a child and this process watches the folder, submitting to the same queue."""
    settings = context.settings
    child = subprocess.Popen(command, env=settings.worker_env())
    try:
        with WorkerPool(context.services, settings.broker, consume=False) as pool:
            watch_with_pool(context, pool)
    finally:
        child.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=30)


def watch_with_pool(context: Context, pool: WorkerPool) -> None:
    """The folder of SOHOA_CONSUME_DIR, watched with the settings' options."""
    settings = context.settings
    options = ConsumeOptions(
        owner=settings.consume_owner or None,
        dossier_from_subfolder=settings.consume_dossier_from_subfolder,
        settle_s=settings.consume_settle_seconds,
    )
    looping = WatchOptions(polling=settings.consume_polling, poll_s=settings.consume_poll_seconds)
    try:
        watch_folder(context, Path(settings.consume_dir), pool, options, looping)
    except SohoaError as e:
        raise fail(e) from e


# ------------------------------------------------------------------ sohoa status


def _remember(settings: Settings, root: Path) -> None:
    path = settings.data_dir / REMEMBERED
    with contextlib.suppress(OSError):
        known = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        if str(root) not in known:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(f"{root}\n")


def _folders(settings: Settings) -> list[Path]:
    chosen = [Path(settings.consume_dir)] if settings.consume_dir else []
    path = settings.data_dir / REMEMBERED
    with contextlib.suppress(OSError):
        if path.is_file():
            chosen += [Path(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return list(dict.fromkeys(ConsumeFolder(p).root for p in chosen if str(p).strip()))


def print_consume_status(settings: Settings) -> None:
    """Each scanner folder: whether a watcher runs, its counts, its last error."""
    for root in _folders(settings):
        if not root.is_dir():
            out.print(Text(f"consume folder {root}: missing"))
            continue
        folder = ConsumeFolder(root)
        counts = folder.counts()
        state = WatchState.load(folder)
        out.print(Text(f"consume folder {root}: {_watcher(state)}"))
        out.print(
            f"  waiting: {counts.waiting}, processing: {counts.processing}, "
            f"done: {counts.done}, failed: {counts.failed}"
        )
        if state is not None and state.last_error:
            error = state.last_error
            at = datetime.fromtimestamp(error.get("at", 0), UTC).strftime("%Y-%m-%d %H:%M UTC")
            reason, file = str(error.get("reason", "")), str(error.get("file") or "")
            if file and not reason.startswith(file):  # most reasons name their file already
                reason = f"{file}: {reason}"
            out.print(Text(f"  last error ({at}): {reason}"))
        for why in state.stuck if state is not None else []:
            out.print(Text(f"  not taken: {why}"))


def _watcher(state: WatchState | None) -> str:
    if state is None:
        return "never watched"
    seen = datetime.fromtimestamp(state.heartbeat, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if state.running and time.time() - state.heartbeat <= 3 * HEARTBEAT_S:
        return f"watched ({state.mode}, pid {state.pid} on {state.host})"
    return f"not watched now (last seen {seen})"
