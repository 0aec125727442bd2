"""A real `coopdec-kg serve` for the tests: started as a user starts it (a subprocess) on a free
port of 127.0.0.1, with no proxy, and stopped. Used by test_serve (clients) and test_atlas
(a browser).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_SECONDS = 60.0
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY")


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    log: list[str] = field(default_factory=list)
    store: Path | None = None  # where the server was told its persistent store is

    @property
    def sparql(self) -> str:
        return self.base + "sparql"


def environment(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    return {**env, "COOPDEC_KG_STORE": str(store), "no_proxy": HOST}


def start(arguments: list[str], store: Path) -> Server:
    """`coopdec-kg serve --port 0 …` in a subprocess; its stderr is read into `log` by a thread
    (the access log must never fill the pipe)."""
    command = [sys.executable, "-m", "coopdec_kg", "--root", str(REPO), "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, *arguments],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment(store),
    )
    assert process.stderr is not None
    lines: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "Serving" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(STARTUP_SECONDS) or process.poll() is not None:
        process.kill()
        pytest.fail(f"the server did not start: {''.join(lines)[-800:]}")
    found = re.search(r" at (http://\S+/) ", "".join(lines))
    assert found, lines
    return Server(process, found.group(1), lines, store)


def stop(server: Server, sig: int = signal.SIGTERM) -> int:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=30)
    return server.process.returncode
