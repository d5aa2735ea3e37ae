"""The per-file work of validate-logs (trailgate.trail.logcheck): whole and streamed files
give the same verdicts and scans, pre-signed GETs over keep-alive connections (errors, retries,
NoSuchKey), and the eventID repeat bookkeeping of the validator."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from trailgate.trail import logcheck
from trailgate.trail.logcheck import LogJob, LogOutcome, Missing, check_log, url_body
from trailgate.trail.sources import DirectorySource
from trailgate.trail.validate import _EventIds


def _records(count: int) -> list[dict[str, object]]:
    return [
        {
            "eventTime": f"2026-03-01T12:{n % 60:02d}:00Z",
            "noise": "eventID" * (n % 7) + '"eventID":"not a key"',
            "eventID": str(uuid.UUID(int=n + 1)),
            "requestParameters": {"eventID": "nested", "sharedEventID": "x"},
        }
        for n in range(count)
    ]


def _file(tmp_path: Path, data: dict[str, object], *, trailing: bytes = b"") -> tuple[
        DirectorySource, LogJob]:
    raw = json.dumps(data, separators=(",", ":")).encode()
    (tmp_path / "b").mkdir(exist_ok=True)
    (tmp_path / "b" / "k.json.gz").write_bytes(gzip.compress(raw) + trailing)
    job = LogJob("b", "k.json.gz", hashlib.sha256(raw).hexdigest(), None, None,
                 "2026-03-01T13:00:00Z", "digest")
    return DirectorySource(tmp_path / "b", "b"), job


@pytest.mark.parametrize("whole", [logcheck.WHOLE, 64])
def test_whole_and_streamed_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  whole: int) -> None:
    monkeypatch.setattr(logcheck, "WHOLE", whole)
    monkeypatch.setattr(logcheck, "CHUNK", 256)
    source, job = _file(tmp_path, {"Records": _records(3000)})
    out = check_log(source, job)
    assert out.message == "valid"
    assert out.records == 6000  # top-level and nested ids: the full parse tells them apart
    ids = out.id_list()
    assert ids[0] == str(uuid.UUID(int=1)).encode() and ids[1] == b"nested"
    assert len(set(ids)) == 3001
    assert (out.oldest, out.newest) == ("2026-03-01T12:00:00Z", "2026-03-01T12:59:00Z")
    assert out.size > out.compressed > 0


@pytest.mark.parametrize("whole", [logcheck.WHOLE, 64])
def test_file_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: int) -> None:
    monkeypatch.setattr(logcheck, "WHOLE", whole)
    source, job = _file(tmp_path, {"Records": _records(50)}, trailing=b"junk")
    assert check_log(source, job).message == logcheck.TRAILING
    source, job = _file(tmp_path, {"Records": []})
    out = check_log(source, job)
    assert out.message == "valid" and out.records == 0 and out.id_list() == []
    assert out.oldest is None
    bad = LogJob("b", "k.json.gz", "0" * 64, None, None, "", "")
    assert check_log(source, bad).message == "INVALID: hash value doesn't match"
    gone = LogJob("b", "gone.json.gz", "", None, None, "", "")
    assert check_log(source, gone).message == "INVALID: not found"


def test_times_with_odd_values_are_exact(tmp_path: Path) -> None:
    """Ordering values with their closing quote differs where one value continues another
    with ' ' or '!': the scan then compares the bare values."""
    records = [{"eventTime": t, "eventID": str(n)}
               for n, t in enumerate(["2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z!",
                                      "2026-03-01T12:00:00Z x", "2026-03-01T11:00:00Z"])]
    source, job = _file(tmp_path, {"Records": records})
    out = check_log(source, job)
    assert (out.oldest, out.newest) == ("2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z!")


# -- pre-signed GETs ---------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path.startswith("/ok"):
            self._send(200, b"x" * 1000)
        elif self.path.startswith("/flaky") and self.hits[self.path] == 1:
            self._send(503, b"<Error><Code>SlowDown</Code></Error>")
        elif self.path.startswith("/flaky"):
            self._send(200, b"fine")
        elif self.path.startswith("/gone"):
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>")
        else:
            self._send(403, b"<Error><Code>AccessDenied</Code></Error>")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    logcheck.forget_connections()


def test_url_body(endpoint: str) -> None:
    size, pieces = url_body(f"{endpoint}/ok?X-Amz-Signature=1")
    assert size == 1000 and b"".join(pieces) == b"x" * 1000
    size, pieces = url_body(f"{endpoint}/ok/again")  # the same keep-alive connection
    assert b"".join(pieces) == b"x" * 1000
    assert b"".join(url_body(f"{endpoint}/flaky")[1]) == b"fine"  # a 5xx is retried
    with pytest.raises(Missing):
        url_body(f"{endpoint}/gone")
    with pytest.raises(RuntimeError, match="AccessDenied"):
        url_body(f"{endpoint}/denied")
    assert b"".join(url_body(f"{endpoint}/ok")[1]) == b"x" * 1000  # still usable


# -- eventID repeats -------------------------------------------------------------------------


def _outcome(key: str, ids: list[bytes]) -> LogOutcome:
    out = LogOutcome(LogJob("b", key, "", None, None, "", ""), "valid")
    out.ids, out.records = b"\n".join(ids), len(ids)
    return out


def test_event_id_repeats() -> None:
    seen = _EventIds()
    for key, ids in [("f1", [b"a", b"b", b"c"]), ("f2", [b"d", b"e", b"d"]),
                     ("f3", [b"a", b"x", b"x", b"e"]), ("f4", []), ("f5", [b"b"])]:
        seen.add(_outcome(key, ids))
    assert seen.dupes == {"a": ["f1", "f3"], "b": ["f1", "f5"], "d": ["f2"],
                          "e": ["f2", "f3"], "x": ["f3"]}
