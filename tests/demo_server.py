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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from demo_copy import copy_catalog

PZCAT = [sys.executable, "-m", "pzcat.cli"]
SECRET = "demo-server-test-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(root: Path, env: dict, log: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """Start ``pzcat serve --port 0`` on ``root``; return the process and the URL it printed.

    The server listens before it prints its URL, so the URL answers as soon as it is read.
    """
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*PZCAT, "serve", "--root", str(root), "--host", "127.0.0.1", "--port", "0", *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        for line in log.read_text().splitlines():
            if line.startswith("http://127.0.0.1:"):
                return proc, line.strip()
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no URL printed within 60 s: {log.read_text()}")


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
    port = free_port()
    log = root / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*PZCAT, "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pzcat serve did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield DemoServer(root=root, url=f"http://127.0.0.1:{port}/", env=env, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
