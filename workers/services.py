from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exchange.options import ExchangeOptions
from organs.registry import OrganRegistry
from pipeline.limits import MAX_PIXELS
from search.base import SearchIndex
from storage.access import AccessBook
from storage.base import ObjectStore
from storage.records import RecordStore
from workers.budget import PixelBudget
from workers.visible_index import VisibleIndex

if TYPE_CHECKING:
    from pipeline.page import PageOptions


def _default_page_options() -> PageOptions:
    # Imported on use: pipeline.page brings OpenCV and the whole page pipeline, which most
    # `sohoa` commands (and every start of one) do not need.
    from pipeline.page import PageOptions

    return PageOptions()


@dataclass
class Services:
    """The backends an actor works with, composed once per process by app/."""

    store: ObjectStore
    index: SearchIndex
    page_options: PageOptions = field(default_factory=_default_page_options)
    exchange: ExchangeOptions = field(default_factory=ExchangeOptions)
    # The organ registry, read on first use (`app.compose.build_registry`).
    organs: Callable[[], OrganRegistry] = OrganRegistry.default
    # One largest page's worth of pixels decoded at a time in this process (docs/limits.md).
    pixel_budget: PixelBudget = field(default_factory=lambda: PixelBudget(MAX_PIXELS))
    # The installation's own organ (SOHOA_ORGAN): owner of what is ingested with no other.
    organ: str = ""

    def __post_init__(self) -> None:
        # Every index write carries who may see the record (workers/visible_index.py).
        if not isinstance(self.index, VisibleIndex):
            self.index = VisibleIndex(self.index, self.access)

    @property
    def access(self) -> AccessBook:
        return AccessBook(self.store, self.organ)

    @property
    def records(self) -> RecordStore:
        return RecordStore(self.store)
