"""Query workers: processes that share the in-memory graph, and are killed at the deadline.

Why processes. pyoxigraph cannot cancel a query from Python: a thread left running past its
deadline goes on using a core and memory until the query ends, maybe never (a cartesian
product), so it is not "stopped". A process can be killed. Each query (an ad-hoc SPARQL query, a
named query, a resource description) therefore runs in a worker process; past the deadline the
worker is killed (SIGKILL), the request is answered 503, and a fresh worker takes its place.
The serving process only routes requests and writes answers, so it keeps serving while workers
are busy or being replaced.

Why forks of a spawner. Loading the graph into memory takes seconds (3–8 s at national scale)
and 0.6–0.8 GB; a worker must start in milliseconds and must not copy the graph. At start,
before the web server or any thread exists, the serving process forks a *spawner* that loads
the store and then only forks workers on request, handing the serving process its end of each
worker's socket pair (SCM_RIGHTS). Workers are forks of a process that holds the loaded store,
so they share its memory copy-on-write (queries only read it) and are ready at once. The spawner
stays single-threaded after the load, so forking it is safe, which would not be true of the
serving process (the web server's threads). The spawner and its workers form a process group
of their own: Ctrl-C reaches only the serving process, which stops them all at shutdown, and a
spawner whose serving process died (its socket closed) kills its group.

Messages are length-prefixed pickles on the socket pairs, between processes of this program
only. A worker runs one job at a time: a function of `jobs.JOBS` applied to the loaded graph.
A worker may keep what a job computed (web/answers); a job given an `affinity` goes to the
worker that last ran a job of the same affinity when that one is free, to any free one else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from coopdec_kg.errors import CoopdecError, ServeError

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
MAX_AFFINITIES = 1024  # affinities remembered (each: which worker last ran it)
LONG_JOB_SECONDS = 0.25  # after a job this long, a worker gives the memory it freed back


class QueryStopped(ServeError):
    """A query ran past the deadline and its worker was killed (503)."""


class WorkersBusy(ServeError):
    """No worker became free before the deadline (503)."""


class WorkerLost(ServeError):
    """A worker died while running a job, e.g. out of memory (503)."""


class JobFailed(Exception):
    """A job raised something unexpected (a bug): its type and message, from the worker."""


# ---------------------------------------------------------------------------- framing


def _send(connection: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    connection.sendall(_HEADER.pack(len(payload)))
    connection.sendall(payload)


def _receive_exactly(connection: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = connection.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return bytes(buffer)


def _receive(connection: socket.socket) -> Any:
    """The next message, or None when the other end closed."""
    header = _receive_exactly(connection, _HEADER.size)
    if header is None:
        return None
    payload = _receive_exactly(connection, _HEADER.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


# ---------------------------------------------------------------------------- spawner, workers


Jobs = dict[str, Callable[..., Any]]


def _spawner(
    control: socket.socket, load: Callable[[], tuple[object, dict[str, Any]]], jobs: Jobs
) -> None:
    """The spawner's life: load the graph, say so, then fork a worker per request until the
    serving process closes the control socket (the caller then ends the whole group)."""
    try:
        loaded, summary = load()
    except CoopdecError as error:
        _send(control, ("failed", str(error)))
        return
    except Exception as error:
        _send(control, ("failed", f"internal error: {type(error).__name__}: {error}"))
        return
    _send(control, ("ready", summary))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    while _receive(control) is not None:
        server_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            control.close()
            server_end.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _work(worker_end, loaded, jobs)
            os._exit(0)
        worker_end.close()
        socket.send_fds(control, [_HEADER.pack(pid)], [server_end.fileno()])
        server_end.close()


def _work(connection: socket.socket, loaded: object, jobs: Jobs) -> None:
    """A worker's life: run one job after another until the serving process closes the socket."""
    while True:
        try:
            message = _receive(connection)
        except OSError:
            return
        if message is None:
            return
        name, arguments = message
        started = time.monotonic()
        try:
            reply: tuple[str, object] = ("ok", jobs[name](loaded, *arguments))
        except CoopdecError as error:
            reply = ("error", error)
        except Exception as error:
            log.error("%s", "".join(traceback.format_exception(error)).rstrip())
            reply = ("error", JobFailed(f"{type(error).__name__}: {error}"))
        try:
            _send(connection, reply)
        except OSError:
            return
        del reply
        if time.monotonic() - started >= LONG_JOB_SECONDS:
            _give_memory_back()


def _give_memory_back() -> None:
    """Hand the memory a long job freed back to the system (glibc's malloc_trim): a large
    answer's query and its writing leave 50–100 MB free but held by the worker, which the
    server's memory counts. Nothing where the C library has no such call."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes
    import ctypes.util

    try:
        found: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
    except (OSError, AttributeError):
        return None
    return found


# ---------------------------------------------------------------------------- the serving side


@dataclass
class _Worker:
    pid: int
    connection: socket.socket
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(self, name: str, arguments: tuple[object, ...]) -> Any:
        if self.streams is None:
            self.connection.setblocking(False)
            self.streams = await asyncio.open_unix_connection(sock=self.connection)
        reader, writer = self.streams
        payload = pickle.dumps((name, arguments), protocol=pickle.HIGHEST_PROTOCOL)
        writer.write(_HEADER.pack(len(payload)) + payload)
        await writer.drain()
        (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
        status, value = pickle.loads(await reader.readexactly(size))
        if status == "error":
            raise value
        return value

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        if self.streams is not None:
            self.streams[1].close()
        else:
            self.connection.close()


class Workers:
    """A pool of query workers over one loaded graph; `run` gives a job to a free one."""

    def __init__(
        self, spawner: int, control: socket.socket, summary: dict[str, Any], size: int
    ) -> None:
        self.spawner = spawner
        self.summary = summary
        self.size = size
        self._control = control
        # the free workers, and a token in `_idle` for each (what a request waits for)
        self._free: list[_Worker] = []
        self._idle: asyncio.Queue[None] | None = None
        self._last_ran: OrderedDict[Hashable, int] = OrderedDict()  # affinity → worker pid
        self._starting: list[_Worker] = []
        self._spawn_lock: asyncio.Lock | None = None
        self._replacements: set[asyncio.Task[None]] = set()
        self.replaced = 0  # workers killed at a deadline or lost, and replaced
        self._stopped = False

    @classmethod
    def start(
        cls,
        load: Callable[[], tuple[object, dict[str, Any]]],
        jobs: Jobs,
        size: int,
        close_in_children: Sequence[socket.socket] = (),
    ) -> Workers:
        """Fork the spawner, wait until it has loaded the graph, and fork `size` workers.

        Call it before any thread or event loop exists in this process. ServeError when the
        graph cannot be loaded (the spawner's message)."""
        control, spawner_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # the spawner, leader of a process group of its own with its workers
            os.setpgid(0, 0)
            code = 0
            try:
                control.close()
                for inherited in close_in_children:
                    inherited.close()
                _spawner(spawner_end, load, jobs)
            except BaseException:
                code = 1
            finally:
                if os.getpgrp() == os.getpid():  # never the group of the serving process
                    with contextlib.suppress(Exception):
                        os.killpg(0, signal.SIGKILL)  # its workers, then itself
                os._exit(code)
        spawner_end.close()
        with contextlib.suppress(PermissionError, ProcessLookupError):
            os.setpgid(pid, pid)  # also here: no race with the first kill
        reply = _receive(control)
        if reply is None or reply[0] != "ready":
            _reap(pid)
            detail = reply[1] if reply is not None else "the loading process died"
            raise ServeError(f"cannot load the graph: {detail}")
        workers = cls(pid, control, reply[1], size)
        workers._starting = [workers._fork_worker() for _ in range(size)]
        return workers

    def _fork_worker(self) -> _Worker:
        """One more worker, forked by the spawner (a blocking exchange of a few milliseconds)."""
        _send(self._control, "fork")
        message, descriptors, _, _ = socket.recv_fds(self._control, _HEADER.size, 1)
        if not descriptors:
            raise ServeError("the query workers' spawner stopped")
        (pid,) = _HEADER.unpack(message)
        return _Worker(pid, socket.socket(fileno=descriptors[0]))

    def _queue(self) -> asyncio.Queue[None]:
        if self._idle is None:  # created in the event loop that serves
            self._idle = asyncio.Queue()
            self._spawn_lock = asyncio.Lock()
            for worker in self._starting:
                self._give_back(worker)
            self._starting = []
        return self._idle

    def _give_back(self, worker: _Worker) -> None:
        self._free.append(worker)
        self._queue().put_nowait(None)

    def _take(self, affinity: Hashable | None) -> _Worker:
        """A free worker (a token was taken): the one that last ran `affinity` if it is free,
        else the one free the longest."""
        wanted = self._last_ran.get(affinity) if affinity is not None else None
        for position, worker in enumerate(self._free):
            if worker.pid == wanted:
                return self._free.pop(position)
        return self._free.pop(0)

    def _ran(self, affinity: Hashable | None, worker: _Worker) -> None:
        if affinity is None:
            return
        self._last_ran[affinity] = worker.pid
        self._last_ran.move_to_end(affinity)
        if len(self._last_ran) > MAX_AFFINITIES:
            self._last_ran.popitem(last=False)

    @property
    def idle(self) -> int:
        return self._queue().qsize()

    async def run(
        self, timeout: float, name: str, *arguments: object, affinity: Hashable | None = None
    ) -> Any:
        """The result of job `name` run by a free worker, within `timeout` seconds from now
        (waiting for a free worker included): the worker that last ran a job of the same
        `affinity` when it is free (it may have kept what it computed). QueryStopped past the
        deadline, the worker killed and replaced; the job's own CoopdecError as it raised it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(self._queue().get(), timeout)
        except TimeoutError:
            raise WorkersBusy(
                f"every query worker stayed busy for {timeout:g} s: try again later"
            ) from None
        worker = self._take(affinity)
        self._ran(affinity, worker)
        try:
            result = await asyncio.wait_for(worker.call(name, arguments), deadline - loop.time())
        except TimeoutError:
            self._replace(worker)
            raise QueryStopped(
                f"the query ran past the server's limit of {timeout:g} s and was stopped "
                "(narrow it, or add a LIMIT)"
            ) from None
        except (OSError, EOFError, asyncio.IncompleteReadError):
            self._replace(worker)
            raise WorkerLost(
                "the query stopped its worker (it may have needed more memory than the machine "
                "has): narrow it, or add a LIMIT"
            ) from None
        except asyncio.CancelledError:
            self._replace(worker)  # its answer may still come: it cannot take another job
            raise
        except BaseException:
            self._give_back(worker)
            raise
        self._give_back(worker)
        return result

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self.replaced += 1
        task = asyncio.get_running_loop().create_task(self._add_worker())
        self._replacements.add(task)
        task.add_done_callback(self._replacements.discard)

    async def _add_worker(self) -> None:
        assert self._spawn_lock is not None
        async with self._spawn_lock:
            try:
                worker = await asyncio.to_thread(self._fork_worker)
            except (OSError, ServeError) as error:
                log.error("Cannot start a query worker: %s", error)
                return
        self._give_back(worker)

    def stop(self) -> None:
        """Kill the spawner and every worker (they form one process group), and reap the
        spawner (once: later calls do nothing)."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.spawner, signal.SIGKILL)
        self._control.close()
        _reap(self.spawner)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
