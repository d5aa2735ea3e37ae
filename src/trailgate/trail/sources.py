"""Where ``validate-logs`` reads objects from: a server (any S3 endpoint, through boto3 for
listings and digests, pre-signed GETs for log files) or a downloaded copy of the bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from .logcheck import Missing, file_body, url_body

SIDE_FILE: Final = ".metadata.json"

Body = tuple[int | None, Iterator[bytes]]
"""An object's size (None: unknown) and its bytes in pieces."""


class ObjectSource(Protocol):
    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]: ...

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        """Bytes and user metadata; :class:`Missing` when absent."""
        ...

    def body(self, bucket: str, key: str) -> Body:
        """The object's size and bytes in pieces; :class:`Missing` when absent."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """How to (re)open a source, also in a worker process: ``s3`` with a boto3 client
    configuration, or ``dir`` with a directory holding a copy of the bucket(s)."""

    kind: str
    root: str = ""  # dir: the bucket copy; ``bucket`` names what it is a copy of
    bucket: str = ""
    client: tuple[tuple[str, Any], ...] = ()  # s3: boto3.client keyword arguments

    def open(self) -> ObjectSource:
        if self.kind == "dir":
            return DirectorySource(Path(self.root), self.bucket)
        return S3Source(dict(self.client))


class S3Source:
    """Objects through boto3 (a thread-safe client, made on first use); log files through
    pre-signed GET URLs (:meth:`presign`) over plain keep-alive connections, which cost far
    less per request than the SDK's ``get_object``."""

    def __init__(self, client_args: dict[str, Any]) -> None:
        self.args = dict(client_args)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            config = Config(max_pool_connections=32, retries={"max_attempts": 3})
            self._client = boto3.client("s3", **{"config": config, **self.args})
        return self._client

    def presign(self, bucket: str, key: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=6 * 3600
        )
        return url

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, StartAfter=start_after
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            result: dict[str, Any] = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise Missing(key) from None
            raise
        return result["Body"].read(), dict(result.get("Metadata") or {})

    def body(self, bucket: str, key: str) -> Body:
        return url_body(self.presign(bucket, key))

    def __getstate__(self) -> dict[str, Any]:  # a worker makes its own client
        return {"args": self.args, "_client": None}


class DirectorySource:
    """A downloaded copy of a bucket: ``root/<key>``; a digest's S3 user metadata may sit
    beside it in ``root/<key>.metadata.json``.  Other buckets are looked for in
    ``root/../<bucket>``."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root.resolve()
        self.bucket = bucket

    def _path(self, bucket: str, key: str) -> Path:
        base = self.root if bucket == self.bucket else (self.root.parent / bucket).resolve()
        path = (base / key).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise Missing(key)
        return path

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        base = self.root if bucket == self.bucket else self.root.parent / bucket
        folder = base / prefix
        if not folder.is_dir():
            folder = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        if not folder.is_dir():
            return
        found = sorted(
            p.relative_to(base).as_posix()
            for p in folder.rglob("*.json.gz")
            if p.is_file()
        )
        yield from (k for k in found if k.startswith(prefix) and k > start_after)

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        path = self._path(bucket, key)
        side = path.with_name(path.name + SIDE_FILE)
        meta: dict[str, str] = {}
        if side.is_file():
            loaded = json.loads(side.read_text())
            loaded = loaded.get("Metadata", loaded) if isinstance(loaded, dict) else {}
            meta = {str(k).lower(): str(v) for k, v in loaded.items()}
        return path.read_bytes(), meta

    def body(self, bucket: str, key: str) -> Body:
        try:
            return file_body(str(self._path(bucket, key)))
        except FileNotFoundError:  # gone since the check
            raise Missing(key) from None
