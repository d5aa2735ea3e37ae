"""The CloudTrail service: trails (:mod:`.trails`), their Insights selectors (:mod:`.insights`),
event history (:mod:`.events`) and the digest signing keys (:mod:`.keys_api`)."""

from __future__ import annotations

from ...trail.keys import KeyStore
from .events import EventHistoryOps
from .insights import InsightOps
from .keys_api import PublicKeyOps
from .trails import TrailOps

__all__ = [
    "CloudTrailProvider",
    "EventHistoryOps",
    "InsightOps",
    "PublicKeyOps",
    "TrailOps",
]


class CloudTrailProvider(InsightOps, EventHistoryOps, PublicKeyOps):
    """Trail operations and Insights selectors + event history (LookupEvents) +
    ListPublicKeys, one method per operation.  ``keys``: the digest signing keys' store, so
    ListPublicKeys can make a region's current key (AWS always has one)."""

    def __init__(self, keys: KeyStore | None = None) -> None:
        self.keys = keys
