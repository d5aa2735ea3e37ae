"""The body of a browser-based upload (S3 "POST Object"): ``multipart/form-data``.

S3 reads the form fields in order up to the ``file`` field, whose content is the object; fields
after it are ignored ("The file or text content must be the last field in the form").  Field
names are case-insensitive (kept here lower-cased, with the name as sent for messages), values
are UTF-8 text.  Pure: no store, no time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from ..errors import ServiceError

FORM_TYPE: Final = "multipart/form-data"
_BOUNDARY = re.compile(r';\s*boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


@dataclass
class PostForm:
    """What a POST upload's form holds."""

    fields: dict[str, str] = field(default_factory=dict)  # lower-cased name -> value
    names: dict[str, str] = field(default_factory=dict)  # lower-cased name -> name as sent
    file: bytes | None = None  # the ``file`` field's content; None when there was none
    filename: str = ""  # the file's name as the browser sent it (for ``${filename}``)

    def get(self, name: str) -> str | None:
        return self.fields.get(name.lower())


def is_form_upload(method: str, content_type: str) -> bool:
    return method == "POST" and content_type.lower().startswith(FORM_TYPE)


def malformed() -> ServiceError:
    return ServiceError(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
        400,
    )


def parse_form(content_type: str, body: bytes) -> PostForm:
    """The fields and file of a ``multipart/form-data`` body; MalformedPOSTRequest when the
    body is not one."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise malformed()
    delimiter = b"--" + (found.group(1) or found.group(2)).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise malformed()  # no part, or no closing delimiter
    form = PostForm()
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise malformed()
        head, sep, content = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            head, content = chunk[2:-2].rstrip(b"\r\n"), b""
        name, filename = _disposition(head)
        lowered = name.lower()
        if lowered == "file":
            form.file, form.filename = content, filename
            break  # S3 ignores whatever follows the file
        try:
            value = content.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed() from None
        form.fields.setdefault(lowered, value)
        form.names.setdefault(lowered, name)
    return form


def _disposition(head: bytes) -> tuple[str, str]:
    """``(name, filename)`` of a part's ``Content-Disposition: form-data; name=...``."""
    for line in head.decode("utf-8", "replace").split("\r\n"):
        label, _, value = line.partition(":")
        if label.strip().lower() != "content-disposition":
            continue
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _PARAM.finditer(value)}
        name = params.get("name")
        if name is None:
            break
        filename = params.get("filename") or ""
        return name.replace('\\"', '"'), filename.replace('\\"', '"')
    raise malformed()
