"""Start ``pzcat serve`` in a subprocess and wait for it (tests, benchmarks, notebooks).

The one start-and-wait loop: ``pzcat serve --port 0`` listens before it prints its URL, so the URL
answers as soon as it is read.

::

    proc, url = start_serve(root, log, "--quiet", env={**os.environ, "PZCAT_SECRET": secret})
    try:
        ...
    finally:
        stop_serve(proc)
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from pzcat.errors import PzcatError

#: How ``pzcat serve`` is started: the interpreter running this code, so the same environment.
PZCAT = [sys.executable, "-m", "pzcat.cli"]


def start_serve(
    root: Path,
    log: Path,
    *options: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``pzcat serve --root ROOT --host 127.0.0.1 --port 0 OPTIONS``; return it and its URL.

    Parameters
    ----------
    root : Path
        The catalog served.
    log : Path
        Where the server's output goes (read for the URL; kept for failures).
    *options : str
        More ``pzcat serve`` options (``--quiet``, ``--build``, ``--workers 2``...).
    env : mapping, optional
        The server's environment (default: this process's).
    timeout : float
        Seconds to wait for the URL.

    Raises
    ------
    PzcatError
        ``serve-not-started`` when the server exits or prints no URL in time (the log is in the
        message); the process is stopped then.
    """
    command = [*PZCAT, "serve", "--root", str(root), "--host", "127.0.0.1", "--port", "0"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*command, *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        for line in Path(log).read_text(errors="replace").splitlines():
            if line.startswith("http://127.0.0.1:"):
                return proc, line.strip()
        time.sleep(0.1)
    exited = proc.poll()
    stop_serve(proc)
    raise PzcatError(
        "serve-not-started",
        f"pzcat serve {'exited' if exited is not None else f'printed no URL within {timeout:.0f} s'}:"
        f"\n{Path(log).read_text(errors='replace')}",
        file=str(log),
    )


def port_of(url: str) -> int:
    """The port of a URL printed by :func:`start_serve`.

    >>> port_of("http://127.0.0.1:8123/")
    8123
    """
    return int(url.strip().rstrip("/").rsplit(":", 1)[1])


def stop_serve(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop a server started by :func:`start_serve` (terminate, then kill)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
