"""The demo catalog built and served by a real ``pzcat serve`` on a random loopback port.

``catalog.yaml`` keeps its default URLs (``http://127.0.0.1:8001/...``): the server runs on another
port, so every link that still pointed at the configured host and port would fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from demo_copy import copy_catalog

from pzcat_datasette import launch

PZCAT = [sys.executable, "-m", "pzcat.cli"]
SECRET = "demo-server-test-secret-0123456789"


def free_port() -> int:
    """A free loopback port (for a server that must know its port before it starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(root: Path, env: dict, log: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """Start ``pzcat serve --port 0`` on ``root``; return the process and the URL it printed
    (:func:`pzcat_datasette.launch.start_serve`, the one start-and-wait loop)."""
    return launch.start_serve(root, log, *options, env=env)


@dataclass
class DemoServer:
    root: Path
    url: str  # the server's root, http://127.0.0.1:<port>/
    env: dict
    log: Path

    @property
    def site(self) -> str:
        return self.url + "site/"

    def token(self, user: str = "demo-user", scope: str = "download") -> str:
        return subprocess.run(
            [*PZCAT, "token", "create", user, "--expires", "1h", "--scope", scope],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


@contextlib.contextmanager
def demo_server(
    tmp: Path, edit: Callable[[Path], None] | None = None, extra_env: dict | None = None
) -> Iterator[DemoServer]:
    """Copy, build (``pzcat build``) and serve the demo catalog; stop the server on exit."""
    root = copy_catalog(tmp / "repo", git=True)
    if edit:
        edit(root)
    env = {
        **os.environ,
        "PZCAT_SECRET": SECRET,
        "PZCAT_ROOT": str(root),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    subprocess.run([*PZCAT, "build"], env=env, check=True, capture_output=True)
    log = root / "server.log"
    proc, url = launch.start_serve(root, log, "--quiet", env=env)
    try:
        yield DemoServer(root=root, url=url if url.endswith("/") else url + "/", env=env, log=log)
    finally:
        launch.stop_serve(proc)
