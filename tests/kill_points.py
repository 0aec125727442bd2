"""Fault injection for the crash tests: run some work in a forked process killed (os._exit, as
abrupt as kill -9 for the file system) just before its k-th file operation.

Fork only from a process that has never opened a pyoxigraph store: RocksDB's background
threads do not survive a fork, and a child that opens a store after one would hang.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence

KILLED = 137  # the status of a process killed by SIGKILL, as a shell reports it


def in_child(work: Callable[[], object]) -> int:
    """Run `work` in a forked process; its exit status (3 if it raised)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        status = 0
        try:
            work()
        except BaseException:
            traceback.print_exc()
            status = 3
        finally:
            sys.stdout.flush()
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def killed_at(
    step: int, operations: Sequence[str], work: Callable[[], object]
) -> Callable[[], None]:
    """`work`, killed just before its `step`-th call of the named `os` functions."""

    def run() -> None:
        calls = 0

        def armed(real: Callable[..., object]) -> Callable[..., object]:
            def call(*args: object, **kwargs: object) -> object:
                nonlocal calls
                calls += 1
                if calls == step:
                    os._exit(KILLED)
                return real(*args, **kwargs)

            return call

        for name in operations:
            setattr(os, name, armed(getattr(os, name)))
        work()

    return run
