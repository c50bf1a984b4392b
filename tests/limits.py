"""Run a command under a memory limit and a time limit, and measure its time and peak memory.

Used by the hostile-input tests (bombs must fail fast with a coded error, not exhaust the
machine) and by ``benchmarks/hostile.py`` for the figures.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Limited:
    """What a limited run gave."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    timed_out: bool


def run_limited(
    args: list[str],
    *,
    cwd: Path,
    mem_mb: int = 1500,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> Limited:
    """Run ``args`` with ``RLIMIT_AS`` of ``mem_mb`` MiB, killed after ``timeout`` seconds.

    The peak resident memory is the child's own (``wait4``), not that of earlier children.
    """
    limit = mem_mb * 1024 * 1024

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.setsid()

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err, preexec_fn=preexec, env=env)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Limited(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
            timed_out,
        )
