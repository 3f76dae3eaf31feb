"""The watcher's loop: file events from `watchdog` (inotify on Linux) tell it early, walks of
the tree find the rest — files that arrived while it was down, events it missed (a full event
queue, a folder moved in whole) and, on network shares where events do not reach this machine,
everything (`polling`: a walk every `poll_s`, the polling fallback). Either way the walk is the
same bounded stream (workers/consume.py), so the mode changes only how soon a file is seen."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from workers.consume import Consumer
from workers.consume_folder import is_temporary

log = logging.getLogger("sohoa.consume")

RESCAN_S = 60.0  # with events: a walk this often all the same, for anything they missed
HEARTBEAT_S = 10.0  # the state file's heartbeat (`sohoa status`: is a watcher running)
ONCE_STALLS = 3  # `once`: failures of the store or index in a row before it gives up
EVENTS_MAX = 10_000  # events waiting beyond this are dropped, and a walk finds their files


class _Events(FileSystemEventHandler):
    """Paths named by events, handed from watchdog's thread to the loop."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Path, bool]] = deque()
        self._lock = threading.Lock()
        self.walk_needed = False

    def _put(self, path: str | bytes, *, renamed: bool = False) -> None:
        with self._lock:
            if len(self._queue) >= EVENTS_MAX:
                self.walk_needed = True
                return
            self._queue.append((Path(_text(path)), renamed))

    def drain(self) -> list[tuple[Path, bool]]:
        with self._lock:
            taken = list(self._queue)
            self._queue.clear()
        return taken

    def on_created(self, event: FileSystemEvent) -> None:
        if event.is_directory:  # a folder moved or copied in whole: its files make no event
            self.walk_needed = True
        else:
            self._put(event.src_path)

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._put(event.src_path)

    def on_closed(self, event: FileSystemEvent) -> None:
        self._put(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            self.walk_needed = True
            return
        # from a temporary name: the writer's way of saying the file is complete
        was_temporary = is_temporary(Path(_text(event.src_path)).name)
        self._put(event.dest_path, renamed=was_temporary)


def _text(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path


def _start_observer(root: Path, events: _Events) -> BaseObserver | None:
    """An event observer on the tree; None when the system cannot give one (inotify watches
    exhausted, a file system without events): then the loop polls."""
    observer = Observer()
    try:
        observer.schedule(events, str(root), recursive=True)
        observer.start()
    except OSError as e:
        log.warning("consume folder: no file events on %s (%s); polling instead", root, e)
        return None
    return observer


@dataclass
class WatchOptions:
    polling: bool = False
    poll_s: float = 2.0
    once: bool = False  # stop when nothing is left to take (a cron job, the tests)


def run(consumer: Consumer, options: WatchOptions, stop: threading.Event) -> None:
    """Recover, then take files until `stop` is set (or, `once`, until none is left)."""
    events = _Events()
    observer = None if options.polling else _start_observer(consumer.folder.root, events)
    consumer.state.mode = "inotify" if observer is not None else "polling"
    tick_s = max(0.05, min(0.5, consumer.options.settle_s / 2, options.poll_s))
    every_s = options.poll_s if observer is None else RESCAN_S
    try:
        consumer.folder.remove_own_temporaries()
        consumer.recover()
        next_walk, heartbeat, walked_all = 0.0, 0.0, False
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_walk or events.walk_needed:
                events.walk_needed = False
                walked_all = consumer.scan()
                next_walk = now + every_s if walked_all else now + tick_s
            for path, renamed in events.drain():
                if not consumer.offer(path, renamed=renamed):
                    events.walk_needed = True
            taken = consumer.step()
            if now - heartbeat >= HEARTBEAT_S:
                consumer.state.save(consumer.folder)
                heartbeat = now
            if options.once and _nothing_left(consumer, taken, walked_all):
                break
            if not taken:
                stop.wait(tick_s)
    finally:
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        consumer.state.running = False
        consumer.state.save(consumer.folder)


def _nothing_left(consumer: Consumer, taken: int, walked_all: bool) -> bool:
    if consumer.stalls >= ONCE_STALLS:
        return True  # the store or index stays down: a one-off run ends, saying why
    idle = not taken and walked_all and not len(consumer.settling)
    return idle and not consumer.recover_due and consumer.stalled_until <= time.monotonic()
