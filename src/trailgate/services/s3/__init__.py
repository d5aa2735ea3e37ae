"""S3: buckets (policy, ACL, ownership controls, public access block), objects (put, get,
head, copy, delete, conditional and range requests), listings v1/v2 and multipart uploads
(``provider.S3Provider``); read helpers for the gateway's authorize step (``queries``)."""

from . import queries
from .provider import S3Provider

__all__ = ["S3Provider", "queries"]
