"""Query worker processes: pyoxigraph holds the GIL while it evaluates, so the second core is used
by plain subprocesses that open the store read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coopdec_kg.engines.store import Answer, select
from coopdec_kg.law.shacl_sparql.literals import _quiet_literals

if TYPE_CHECKING:
    import pyoxigraph

# ---------------------------------------------------------------- query workers
#
# pyoxigraph holds the GIL while it evaluates a query, so threads cannot use the second core:
# worker processes do, each opening the store read-only (RocksDB allows it). They are plain
# subprocesses that import this module only (multiprocessing's spawn would import the
# caller's main module again, and fork is unsafe once RocksDB runs threads). Each reads
# pickled query texts on stdin and writes pickled answers on stdout, length-prefixed.


def _write_frame(stream: Any, payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def _read_frame(stream: Any) -> bytes | None:
    header = stream.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "big")
    payload: bytes = stream.read(size)
    return payload if len(payload) == size else None


def serve_queries(store_path: str, requests: Any, answers: Any) -> None:
    """A query worker: answers each query text read from `requests` until it closes."""
    import pyoxigraph

    store = pyoxigraph.Store.read_only(store_path)
    with _quiet_literals():
        _answer_all(store, requests, answers)


def _answer_all(store: pyoxigraph.Store, requests: Any, answers: Any) -> None:
    import pickle

    while (frame := _read_frame(requests)) is not None:
        text = pickle.loads(frame)
        try:
            answer: tuple[str, object] = ("rows", select(store, text))
        except (SyntaxError, OSError, ValueError) as error:
            answer = ("error", f"{type(error).__name__}: {error}")
        _write_frame(answers, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


_WORKER_CODE = (
    "import sys; from coopdec_kg.law.shacl_sparql.workers import serve_queries; "
    "serve_queries(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)"
)


class _Workers:
    """Query texts answered by worker processes, each fed by a thread of this process.

    Whatever a worker does not answer (it failed, or was stopped) is simply run by this
    process afterwards: the workers only ever save time.
    """

    def __init__(self, store_path: Path, count: int, texts: Sequence[str]) -> None:
        import queue
        import subprocess
        import sys
        import threading

        self.pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for text in texts:
            self.pending.put(text)
        self.answers: dict[str, Answer] = {}
        self.stopped = False
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, str(store_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        self.threads = [
            threading.Thread(target=self.feed, args=(process,), daemon=True)
            for process in self.processes
        ]
        for thread in self.threads:
            thread.start()

    def feed(self, process: Any) -> None:
        import pickle
        import queue

        while not self.stopped:
            try:
                text = self.pending.get_nowait()
            except queue.Empty:
                return
            try:
                _write_frame(process.stdin, pickle.dumps(text))
                frame = _read_frame(process.stdout)
            except OSError:  # the worker is gone: this process answers the rest
                return
            if frame is None:
                return
            kind, answer = pickle.loads(frame)  # our own child's answer
            if kind != "rows":
                return
            self.answers[text] = answer

    def wait(self) -> dict[str, Answer]:
        for thread in self.threads:
            thread.join()
        self.close()
        return self.answers

    def stop(self) -> None:
        self.stopped = True
        for process in self.processes:
            process.kill()
        self.close()

    def close(self) -> None:
        for process in self.processes:
            if process.stdin:
                with suppress(OSError):  # already broken
                    process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except Exception:  # a worker that does not stop is killed, whatever went wrong
                process.kill()
                process.wait()
