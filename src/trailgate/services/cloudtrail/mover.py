"""The event mover: a process of its own that moves the event journal's lines into the store.

Recording is the server's largest cost per call, and the server is bound by its GIL: what its
event loop thread and its store writer thread do in Python, one at a time.  Moving the
journaled records into SQLite (reading them, their index keys grouped by key, the rows bound
to the statements) was about a tenth of that.  So the server starts this process, and its
writer thread, between two group commits (:meth:`SqliteStore.exclusive`: no transaction open,
no lock of the database held), hands it where the lines are and waits, without the GIL, for
its answer.  The process reads the lines from the segment files (the kernel's page cache: the
server wrote them through a shared mapping) and stores them on its own connection, in the
same transactions as before (:func:`events.store_journaled`, up to
:data:`MOVE_CHUNK` records each).  Nothing else changes: the journal keeps its files until
the move is committed, and the server still waits for the move before LookupEvents, a
CloudTrail change, a delivery pass and shutdown.

If the process is missing, dies or fails, the server moves the batch itself, as it did before
this process existed, skipping the events that the process stored already; the process is
started again for the next batch (after :data:`MAX_FAILURES` failures in a row, not any more).

Wire format: each message is a 4-byte big-endian length and a JSON object, on the process's
stdin (requests) and stdout (answers).  ``{"op": "move", "spans": [[path, start, end], ...],
"templates": {id: pieces}}`` answers ``{"rows": N, "moved": M}`` (the records the lines held,
and how many of them were new); ``{"op": "index"}`` (the calls' own
records, see :func:`events.index_pending`) answers ``{"indexed": N}``; a failure answers
``{"error": text}``.  The process ends when its stdin closes (the server stopped or died).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Final

import orjson

from ...store.event_templates import compact_tid, expand, is_compact, parse_pieces
from ...store.interface import Conflict
from ...store.journal import EventRow, IndexKeys, Span, parse_lines
from .events import INDEX_BATCH, index_keys, index_pending, store_journaled

log = logging.getLogger("trailgate.mover")

MOVE_CHUNK: Final = 1000
"""Records per transaction of the mover (as the server's own moves)."""
MAX_FAILURES: Final = 3
ANSWER_SECONDS = 120.0
"""How long the server waits for an answer (a second's records take milliseconds); then the
process is stopped and the server moves the batch itself."""
"""Failures in a row after which the server moves the journal itself for good."""
STOP_SECONDS = 5.0
"""How long a process that is told to stop (its stdin closed) gets before it is killed."""
_HEADER: Final = struct.Struct(">I")


class MoverError(Exception):
    """The mover process is missing, died or failed (the caller moves the batch itself)."""


# -- the server's side --------------------------------------------------------------------------


class EventMover:
    """The server's handle on its mover process.  :meth:`move` and :meth:`index` block (the
    store's writer thread calls them, through :meth:`SqliteStore.exclusive`)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.command = [sys.executable, "-m", __name__]  # the process, but for its argument
        self.failures = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request at a time

    @property
    def usable(self) -> bool:
        return self.failures < MAX_FAILURES

    def start(self) -> None:
        """Start the process (it loads while the server goes on)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen[bytes]:
        process = self._process
        if process is not None and process.poll() is None:
            return process
        self._process = process = subprocess.Popen(
            [*self.command, str(self.db_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        return process

    def move(self, spans: list[Span], templates: dict[int, bytes]) -> int:
        """Store the journal lines of ``spans`` (the compact ones' templates among
        ``templates``); returns how many records the lines held (all stored, now or by an
        earlier try)."""
        answer = self._ask({"op": "move", "spans": spans,
                            "templates": {str(tid): text.decode()
                                          for tid, text in templates.items()}})
        return int(answer["rows"])

    def index(self) -> int:
        """Index the events stored after the index's cursor; returns how many."""
        return int(self._ask({"op": "index"})["indexed"])

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            try:
                process = self._ensure()
                assert process.stdin is not None and process.stdout is not None
                _send(process.stdin, request)
                answer = _receive_within(process.stdout.fileno(), ANSWER_SECONDS)
            except (OSError, ValueError, EOFError, TimeoutError) as exc:
                self._failed()
                raise MoverError(f"event mover: {exc!r}") from None
            if answer is None or "error" in answer:
                self._failed()
                raise MoverError(f"event mover: {(answer or {}).get('error', 'no answer')}")
            self.failures = 0
            return answer

    def _failed(self) -> None:
        self.failures += 1
        self._stop()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    data = orjson.dumps(message)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive_within(fd: int, seconds: float) -> dict[str, Any] | None:
    """:func:`_receive` from a pipe's file descriptor, in at most ``seconds`` (TimeoutError)."""
    deadline = time.monotonic() + seconds
    data = b""
    size = None
    while size is None or len(data) < _HEADER.size + size:
        if size is None and len(data) >= _HEADER.size:
            (size,) = _HEADER.unpack(data[:_HEADER.size])
            continue
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("no answer in time")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            if data:
                raise EOFError("cut-short message")
            return None
        data += chunk
    message = orjson.loads(data[_HEADER.size:])
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


def _receive(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message; None at the end of the stream."""
    head = stream.read(_HEADER.size)
    if not head:
        return None
    if len(head) != _HEADER.size:
        raise EOFError("cut-short message header")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("cut-short message")
    message = orjson.loads(data)
    if not isinstance(message, dict):
        raise ValueError("a message is a JSON object")
    return message


# -- the mover process ----------------------------------------------------------------------------


def read_spans(spans: list[Span], texts: dict[int, bytes]) -> list[EventRow]:
    """The rows of the spans' lines, compact ones kept compact, each with its index keys
    (computed once per template and account; whole records get theirs when stored)."""
    rows: list[EventRow] = []
    for path, start, end in spans:
        with open(path, "rb") as file:
            file.seek(start)
            blob = file.read(end - start)
        found, bad = parse_lines(blob, texts, keep_compact=True)
        if bad:
            log.warning("journal %s: %d unreadable line(s) skipped", Path(path).name, bad)
        rows.extend(found)
    keys_of: dict[tuple[str, int], IndexKeys] = {}
    out: list[EventRow] = []
    for row in rows:
        data = row[3]
        if not is_compact(data):
            out.append(row)
            continue
        key = (row[0], compact_tid(data))
        keys = keys_of.get(key)
        if keys is None:  # the keys of a template's records do not depend on their values
            record = orjson.loads(expand(data, lambda tid: parse_pieces(texts[tid])))
            keys = keys_of[key] = index_keys(row[0], record)
        out.append((row[0], row[1], row[2], data, keys))
    return out


def _move(conn: Any, request: dict[str, Any]) -> dict[str, Any]:
    texts = {int(tid): str(text).encode() for tid, text in request["templates"].items()}
    rows = read_spans([(str(p), int(a), int(b)) for p, a, b in request["spans"]], texts)
    moved = 0
    for start in range(0, len(rows), MOVE_CHUNK):
        chunk = rows[start:start + MOVE_CHUNK]
        try:
            moved += _in_transaction(conn, lambda tx, c=chunk: store_journaled(tx, c, texts))
        except Conflict:  # stored already (an earlier try that died after its commit)
            moved += _in_transaction(
                conn, lambda tx, c=chunk: store_journaled(tx, c, texts, skip_known=True))
    return {"moved": moved, "rows": len(rows)}


def _index(conn: Any) -> dict[str, Any]:
    total = 0
    while True:
        done = _in_transaction(conn, index_pending)
        total += done
        if done < INDEX_BATCH:
            return {"indexed": total}


def _in_transaction(conn: Any, fn: Any) -> int:
    from ...store.sqlite.store import SqliteTx

    conn.execute("BEGIN IMMEDIATE")
    tx = SqliteTx(conn, writable=True)
    try:
        result = int(fn(tx))
    except BaseException:
        tx._end()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    tx._end()
    conn.execute("COMMIT")
    return result


def main(argv: list[str]) -> int:
    from ...store.sqlite.store import connect

    # A Ctrl-C at the server's terminal reaches this process too: the server stops it (its
    # last move done) by closing its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    conn = connect(Path(argv[0]), reader=False)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            request = _receive(requests)
            if request is None:
                return 0
            try:
                answer = _move(conn, request) if request.get("op") == "move" else _index(conn)
            except Exception as exc:
                log.exception("event mover: request failed")
                answer = {"error": repr(exc)}
            try:
                _send(answers, answer)
            except BrokenPipeError:
                return 0  # the server died (what was committed is skipped by its next move)
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
